import { type Observable } from 'rxjs';
import { type ItemOrFailure, type Outcome } from '../src/model.js';
import { compress, DEFAULT_BROTLI_QUALITY } from '../src/operators/compress.js';
import { hashImage } from '../src/operators/hashImage.js';
import { releaseLeases } from '../src/operators/releaseLeases.js';
import { resize, type ResizeOptions } from '../src/operators/resize.js';
import { fromFiles } from '../src/sources/fromFiles.js';
import { type PrepareMode } from '../src/imaging/prepare.js';
import { type ImageTelemetryOptions } from '../src/telemetry/options.js';
import { cycledPaths, type CorpusFile } from './corpus.js';
import { benchClient, classifyTail, deploymentFor, tally, type Tally } from './pipeline.js';
import { watchEventLoop, type LoopDelay } from './sampler.js';
import { type ServerProcess } from './server.js';
import { mean, median, now } from './stats.js';
import { type AthenaClient } from '../src/transport/AthenaClient.js';

/** Settings shared by the end-to-end and memory runs. */
export interface PipelineSettings {
  readonly mode: PrepareMode;
  /** `resize` concurrency (images decoded at once). */
  readonly inFlight: number;
  readonly quality: number;
  /** `resize`'s `maxPixelsInFlight`; none when absent. */
  readonly maxPixelsInFlight?: number;
  /** The source's `window` and the images per request, both when set (defaults 32 and `BATCH_SIZE`). */
  readonly window?: number;
}

/**
 * The whole pipeline: `fromFiles` -> `hashImage` -> `resize` -> `compress` -> `correlate` ->
 * `batch` -> `classify`, every operator with its defaults except the ones `settings` names; the
 * source and `classify` take `telemetry` (none by default).
 */
export function fullPipeline(
  paths: AsyncIterable<string>,
  client: AthenaClient,
  deploymentId: string,
  settings: PipelineSettings,
  telemetry: ImageTelemetryOptions = {},
): Observable<Outcome> {
  const window = settings.window === undefined ? {} : { window: settings.window };
  return fromFiles(paths, { ...window, ...telemetry }).pipe(
    hashImage(),
    resize(resizeOptions(settings)),
    compress({ quality: settings.quality }),
    classifyTail(client, deploymentId, settings.window, telemetry),
  );
}

/** Preparation only, the same source and `resize`, leases released at the end. */
export function preparePipeline(
  paths: AsyncIterable<string>,
  settings: PipelineSettings,
): Observable<ItemOrFailure> {
  return fromFiles(paths).pipe(resize(resizeOptions(settings)), releaseLeases());
}

function resizeOptions(settings: PipelineSettings): ResizeOptions {
  const { mode, inFlight, maxPixelsInFlight } = settings;
  return { mode, concurrency: inFlight, ...(maxPixelsInFlight === undefined ? {} : { maxPixelsInFlight }) };
}

export interface RunFigure {
  readonly kind: 'e2e' | 'prepare';
  readonly images: number;
  readonly wallMs: number;
  readonly imagesPerSecond: number;
  /** CPU time of this process (all its threads) and of the server process, per image. */
  readonly clientCpuMsPerImage: number;
  readonly serverCpuMsPerImage: number;
  /** Event-loop delay during the run (end-to-end runs only). */
  readonly loop?: LoopDelay;
  readonly tally: Tally;
}

export interface E2eResult {
  readonly settings: PipelineSettings;
  readonly imagesPerRun: number;
  readonly runs: RunFigure[];
  readonly e2eImagesPerSecond: number;
  readonly prepareImagesPerSecond: number;
  /** Pooled e2e throughput / pooled prepare-only throughput. */
  readonly ratio: number;
  /** The same ratio pair by pair: median, min, max. */
  readonly ratioPairs: { readonly median: number; readonly min: number; readonly max: number };
  /** Over the end-to-end runs: p50 the median of the runs' p50, p99 and max the largest of the runs'. */
  readonly loop: LoopDelay;
  readonly clientCpuMsPerImage: number;
  readonly serverCpuMsPerImage: number;
  /** This process's CPU per image in the preparation-only runs. */
  readonly prepareCpuMsPerImage: number;
  readonly failed: number;
  readonly firstFailure?: string;
}

/**
 * Runs the full pipeline against the server process and the preparation-only pipeline in pairs
 * (order alternating pair by pair) over the corpus cycled to `imagesPerRun` paths, after a short
 * untimed warm-up of both. The event-loop delay and the client's CPU time are taken during the
 * end-to-end runs only.
 */
export async function measureE2e(
  files: readonly CorpusFile[],
  server: ServerProcess,
  settings: PipelineSettings,
  imagesPerRun: number,
  pairs: number,
): Promise<E2eResult> {
  const client = benchClient(server.address);
  const deploymentId = deploymentFor('e2e');
  const runs: RunFigure[] = [];
  const run = async (kind: RunFigure['kind'], images: number, record: boolean): Promise<void> => {
    const paths = cycledPaths(files, images);
    const serverCpu0 = server.cpuMs();
    const cpu0 = process.cpuUsage();
    const loop = kind === 'e2e' ? watchEventLoop() : undefined;
    const t0 = now();
    const result = await tally(
      kind === 'e2e' ? fullPipeline(paths, client, deploymentId, settings) : preparePipeline(paths, settings),
    );
    const wallMs = now() - t0;
    const delay = loop?.stop();
    const cpu = process.cpuUsage(cpu0);
    const figure: RunFigure = {
      kind,
      images,
      wallMs,
      imagesPerSecond: (images * 1000) / wallMs,
      clientCpuMsPerImage: (cpu.user + cpu.system) / 1000 / images,
      serverCpuMsPerImage: (server.cpuMs() - serverCpu0) / images,
      ...(delay ? { loop: delay } : {}),
      tally: result,
    };
    if (record) runs.push(figure);
  };
  try {
    const warm = Math.min(files.length, imagesPerRun);
    await run('e2e', warm, false);
    await run('prepare', warm, false);
    for (let pair = 0; pair < pairs; pair += 1) {
      const order: RunFigure['kind'][] = pair % 2 === 0 ? ['prepare', 'e2e'] : ['e2e', 'prepare'];
      for (const kind of order) await run(kind, imagesPerRun, true);
    }
  } finally {
    client.close();
  }
  const of = (kind: RunFigure['kind']): RunFigure[] => runs.filter((r) => r.kind === kind);
  const pooled = (list: RunFigure[]): number =>
    (list.reduce((a, r) => a + r.images, 0) * 1000) / list.reduce((a, r) => a + r.wallMs, 0);
  const e2e = of('e2e');
  const prep = of('prepare');
  const pairRatios = e2e.map((r, i) => r.imagesPerSecond / (prep[i]?.imagesPerSecond ?? Number.NaN));
  const failures = e2e.filter((r) => r.tally.failed > 0);
  const perImage = (list: RunFigure[], f: (r: RunFigure) => number): number =>
    list.reduce((a, r) => a + f(r) * r.images, 0) / list.reduce((a, r) => a + r.images, 0);
  const loops = e2e.flatMap((r) => (r.loop ? [r.loop] : []));
  return {
    settings,
    imagesPerRun,
    runs,
    e2eImagesPerSecond: pooled(e2e),
    prepareImagesPerSecond: pooled(prep),
    ratio: pooled(e2e) / pooled(prep),
    ratioPairs: { median: median(pairRatios), min: Math.min(...pairRatios), max: Math.max(...pairRatios) },
    loop: {
      p50Ms: median(loops.map((l) => l.p50Ms)),
      p99Ms: Math.max(...loops.map((l) => l.p99Ms)),
      maxMs: Math.max(...loops.map((l) => l.maxMs)),
      meanMs: mean(loops.map((l) => l.meanMs)),
    },
    clientCpuMsPerImage: perImage(e2e, (r) => r.clientCpuMsPerImage),
    serverCpuMsPerImage: perImage(e2e, (r) => r.serverCpuMsPerImage),
    prepareCpuMsPerImage: perImage(prep, (r) => r.clientCpuMsPerImage),
    failed: failures.reduce((a, r) => a + r.tally.failed, 0),
    ...(failures[0]?.tally.firstFailure === undefined
      ? {}
      : { firstFailure: failures[0].tally.firstFailure }),
  };
}

export { DEFAULT_BROTLI_QUALITY };
