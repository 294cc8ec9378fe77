/**
 * Section 9, the cost of telemetry: the whole pipeline of step 4 against the server process with
 * telemetry off, with spans per stream (and the metrics), and with spans per image, in interleaved
 * rounds, through the real OpenTelemetry SDK with an exporter that only counts what it is given.
 */
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { type ImageTelemetryOptions } from '../src/telemetry/options.js';
import { cycledPaths, type CorpusFile } from './corpus.js';
import { fullPipeline, type PipelineSettings } from './e2e.js';
import { benchClient, deploymentFor, tally, type Tally } from './pipeline.js';
import { type ServerProcess } from './server.js';
import { median, now } from './stats.js';
import { addedCpuMs, lightRuns, type OverheadRun } from './telemetry-overhead.js';

/** The three ways the pipeline runs, in the order of each round. */
export const TELEMETRY_VARIANTS = ['off', 'stream', 'image'] as const;
export type TelemetryVariant = (typeof TELEMETRY_VARIANTS)[number];

export interface TelemetryRun {
  readonly variant: TelemetryVariant;
  readonly round: number;
  readonly images: number;
  readonly wallMs: number;
  readonly imagesPerSecond: number;
  /** CPU time of this process (all its threads) per image. */
  readonly clientCpuMsPerImage: number;
  /** Spans the exporter was given, and metric data points collected at the end of the run. */
  readonly spans: number;
  readonly points: number;
  readonly tally: Tally;
}

export interface TelemetryResult {
  readonly startedAt: string;
  readonly settings: PipelineSettings;
  readonly imagesPerRun: number;
  readonly rounds: number;
  readonly runs: TelemetryRun[];
  /** By variant: the median over rounds of throughput and CPU per image. */
  readonly medians: Record<TelemetryVariant, { readonly imagesPerSecond: number; readonly cpuMs: number }>;
  /**
   * By variant: the cost against `off` in the same round (1 - throughput / off's), median, min and max
   * over rounds; likewise the CPU per image (cpu / off's - 1).
   */
  readonly cost: Record<
    Exclude<TelemetryVariant, 'off'>,
    {
      readonly throughput: { readonly median: number; readonly min: number; readonly max: number };
      readonly cpu: { readonly median: number; readonly min: number; readonly max: number };
    }
  >;
  /**
   * The light pipeline (see `telemetry-overhead.ts`): its runs, the median CPU per image of each
   * variant, and what stream and image telemetry add to it, in ms per image (median over rounds of the
   * difference to the off run of the same round).
   */
  readonly light: {
    readonly imagesPerRun: number;
    readonly runs: {
      readonly variant: TelemetryVariant;
      readonly round: number;
      readonly run: OverheadRun;
    }[];
    readonly cpuMs: Record<TelemetryVariant, number>;
    readonly addedMs: Record<Exclude<TelemetryVariant, 'off'>, number>;
  };
  readonly failed: number;
}

/** An exporter that keeps nothing: it counts the spans, as a real one would have to serialize them. */
function countingExporter(): SpanExporter & { count: number } {
  const exporter = {
    count: 0,
    export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
      exporter.count += spans.length;
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
  return exporter;
}

/** A reader that exports nothing: collected once at the end of a run. */
class EndOfRunReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

interface Sdk {
  readonly options: ImageTelemetryOptions;
  /** Flushes the spans, collects the metrics, shuts down; answers the spans and data points seen. */
  finish(): Promise<{ spans: number; points: number }>;
}

function sdkFor(variant: TelemetryVariant): Sdk {
  if (variant === 'off') return { options: {}, finish: async () => ({ spans: 0, points: 0 }) };
  const exporter = countingExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const reader = new EndOfRunReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    options: { tracerProvider, meterProvider, traceImages: variant === 'image' },
    async finish() {
      await tracerProvider.forceFlush();
      const { resourceMetrics } = await reader.collect();
      const points = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .reduce((n, m) => n + m.dataPoints.length, 0);
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      return { spans: exporter.count, points };
    },
  };
}

/**
 * Runs the pipeline `rounds` times in each variant, the variants in turn within a round (the order
 * rotating round by round), after an untimed warm-up of each; `imagesPerRun` corpus paths a run.
 */
export async function measureTelemetry(
  files: readonly CorpusFile[],
  server: ServerProcess,
  settings: PipelineSettings,
  sizes: { readonly images: number; readonly rounds: number; readonly lightImages: number },
  log: (text: string) => void,
): Promise<TelemetryResult> {
  const { images: imagesPerRun, rounds } = sizes;
  const order = (round: number) => TELEMETRY_VARIANTS.map((_, i) => TELEMETRY_VARIANTS[(i + round) % 3]!);
  const startedAt = new Date().toISOString();
  const client = benchClient(server.address);
  const runs: TelemetryRun[] = [];
  const run = async (variant: TelemetryVariant, round: number, images: number): Promise<TelemetryRun> => {
    const sdk = sdkFor(variant);
    const cpu0 = process.cpuUsage();
    const t0 = now();
    const result = await tally(
      fullPipeline(
        cycledPaths(files, images),
        client,
        deploymentFor(`otel-${variant}`),
        settings,
        sdk.options,
      ),
    );
    const wallMs = now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const seen = await sdk.finish();
    return {
      variant,
      round,
      images,
      wallMs,
      imagesPerSecond: (images * 1000) / wallMs,
      clientCpuMsPerImage: (cpu.user + cpu.system) / 1000 / images,
      ...seen,
      tally: result,
    };
  };
  try {
    const warm = Math.min(files.length, imagesPerRun);
    for (const variant of TELEMETRY_VARIANTS) await run(variant, -1, warm);
    for (let round = 0; round < rounds; round += 1) {
      for (const variant of order(round)) {
        const figure = await run(variant, round, imagesPerRun);
        runs.push(figure);
        log(`9. round ${round + 1}/${rounds} ${variant}: ${figure.imagesPerSecond.toFixed(1)} images/s`);
      }
    }
  } finally {
    client.close();
  }
  log(`9. light pipeline: ${rounds} rounds of ${sizes.lightImages} images`);
  const light = await lightRuns(server, sizes.lightImages, rounds, order, sdkFor);
  const lightFailed = light.reduce((n, r) => n + r.run.failed, 0);
  const cpuOf = (variant: TelemetryVariant) =>
    median(light.filter((r) => r.variant === variant).map((r) => r.run.clientCpuMsPerImage));
  const summary = summarize(startedAt, settings, imagesPerRun, rounds, runs);
  return {
    ...summary,
    light: {
      imagesPerRun: sizes.lightImages,
      runs: light,
      cpuMs: { off: cpuOf('off'), stream: cpuOf('stream'), image: cpuOf('image') },
      addedMs: { stream: addedCpuMs(light, 'stream', 'off'), image: addedCpuMs(light, 'image', 'off') },
    },
    failed: summary.failed + lightFailed,
  };
}

function summarize(
  startedAt: string,
  settings: PipelineSettings,
  imagesPerRun: number,
  rounds: number,
  runs: TelemetryRun[],
): Omit<TelemetryResult, 'light'> {
  const of = (variant: TelemetryVariant) => runs.filter((r) => r.variant === variant);
  const spread = (values: number[]) => ({
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
  });
  const against = (variant: Exclude<TelemetryVariant, 'off'>) => {
    const pairs = of(variant).flatMap((r) => {
      const off = runs.find((o) => o.variant === 'off' && o.round === r.round);
      return off === undefined ? [] : [[r, off] as const];
    });
    return {
      throughput: spread(pairs.map(([r, off]) => 1 - r.imagesPerSecond / off.imagesPerSecond)),
      cpu: spread(pairs.map(([r, off]) => r.clientCpuMsPerImage / off.clientCpuMsPerImage - 1)),
    };
  };
  const mid = (variant: TelemetryVariant) => ({
    imagesPerSecond: median(of(variant).map((r) => r.imagesPerSecond)),
    cpuMs: median(of(variant).map((r) => r.clientCpuMsPerImage)),
  });
  return {
    startedAt,
    settings,
    imagesPerRun,
    rounds,
    runs,
    medians: { off: mid('off'), stream: mid('stream'), image: mid('image') },
    cost: { stream: against('stream'), image: against('image') },
    failed: runs.reduce((n, r) => n + r.tally.failed, 0),
  };
}
