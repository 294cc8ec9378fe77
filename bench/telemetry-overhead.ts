/**
 * Section 9's second measurement: the CPU telemetry itself takes per image, with the image work taken
 * out. The pipeline keeps every step that reports to telemetry (`fromBuffers` -> `hashImage` ->
 * `resize` -> `compress` -> `correlate` -> `batch` -> `classify`), but the hash, the preparation and the
 * compression are injected functions that answer at once (the compression with bytes Brotli-encoded
 * beforehand), so the client's CPU per image is the transport's and the telemetry's, and what telemetry
 * adds stands out of a figure a fiftieth of the whole pipeline's.
 */
import { brotliCompressSync, constants } from 'node:zlib';
import { ImageFormat } from '../src/model.js';
import { compress } from '../src/operators/compress.js';
import { hashImage } from '../src/operators/hashImage.js';
import { resize } from '../src/operators/resize.js';
import { fromBuffers } from '../src/sources/fromBuffers.js';
import { type ImageTelemetryOptions } from '../src/telemetry/options.js';
import { benchClient, classifyTail, deploymentFor, tally } from './pipeline.js';
import { type ServerProcess } from './server.js';
import { median, now } from './stats.js';
import { syntheticImage } from './transport.js';

/** One run of the light pipeline. */
export interface OverheadRun {
  readonly images: number;
  readonly wallMs: number;
  readonly clientCpuMsPerImage: number;
  readonly failed: number;
}

/** What {@link lightRuns} needs of each variant: its telemetry, and a way to finish its SDK. */
export interface VariantSdk {
  readonly options: ImageTelemetryOptions;
  finish(): Promise<unknown>;
}

/** Runs the light pipeline once per variant per round, in the order `order(round)` gives. */
export async function lightRuns<V extends string>(
  server: ServerProcess,
  count: number,
  rounds: number,
  order: (round: number) => readonly V[],
  sdkFor: (variant: V) => VariantSdk,
): Promise<{ variant: V; round: number; run: OverheadRun }[]> {
  const raw = [syntheticImage(1), syntheticImage(2), syntheticImage(3), syntheticImage(4)];
  const brotli = new Map(
    raw.map((data) => [
      data,
      brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 2 } }) as Uint8Array,
    ]),
  );
  const digest = '0'.repeat(32);
  const client = benchClient(server.address);
  const once = async (variant: V, n: number): Promise<OverheadRun> => {
    const sdk = sdkFor(variant);
    const buffers = function* () {
      for (let i = 0; i < n; i += 1) yield { name: `light-${i}`, data: raw[i % raw.length]! };
    };
    const cpu0 = process.cpuUsage();
    const t0 = now();
    const result = await tally(
      fromBuffers(buffers(), { window: 256, ...sdk.options }).pipe(
        hashImage({ hash: () => [digest] }),
        resize({
          prepare: (data) => [
            { data, width: 448, height: 448, format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR } as const,
          ],
        }),
        compress({ brotli: (data) => [brotli.get(data) ?? data] }),
        classifyTail(client, deploymentFor(`otel-light-${variant}`), undefined, sdk.options),
      ),
    );
    const wallMs = now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await sdk.finish();
    return {
      images: n,
      wallMs,
      clientCpuMsPerImage: (cpu.user + cpu.system) / 1000 / n,
      failed: result.failed,
    };
  };
  const runs: { variant: V; round: number; run: OverheadRun }[] = [];
  try {
    for (const variant of order(0)) await once(variant, Math.min(count, 256));
    for (let round = 0; round < rounds; round += 1) {
      for (const variant of order(round)) runs.push({ variant, round, run: await once(variant, count) });
    }
  } finally {
    client.close();
  }
  return runs;
}

/** The median over rounds of `variant`'s CPU per image minus `base`'s in the same round, in ms. */
export function addedCpuMs<V extends string>(
  runs: readonly { variant: V; round: number; run: OverheadRun }[],
  variant: V,
  base: V,
): number {
  const diffs = runs
    .filter((r) => r.variant === variant)
    .flatMap((r) => {
      const b = runs.find((x) => x.variant === base && x.round === r.round);
      return b === undefined ? [] : [r.run.clientCpuMsPerImage - b.run.clientCpuMsPerImage];
    });
  return median(diffs);
}
