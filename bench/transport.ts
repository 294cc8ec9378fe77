import { map } from 'rxjs';
import { ImageFormat, RequestEncoding, type ItemOrFailure } from '../src/model.js';
import { fromBuffers } from '../src/sources/fromBuffers.js';
import { benchClient, classifyTail, deploymentFor, tally, type Tally } from './pipeline.js';
import { type ServerProcess } from './server.js';
import { now } from './stats.js';

export const MODEL_INPUT_BYTES = 448 * 448 * 3;

/** Client and server cost of the gRPC write/read path alone. */
export interface TransportResult {
  readonly images: number;
  readonly wallMs: number;
  readonly clientCpuMsPerImage: number;
  readonly clientUserMsPerImage: number;
  readonly clientSystemMsPerImage: number;
  readonly serverCpuMsPerImage: number;
  readonly imagesPerSecond: number;
  readonly tally: Tally;
}

/** Pseudo-random but smooth 448x448x3 pixels, so the buffers look like images, not noise. */
export function syntheticImage(seed: number): Uint8Array {
  const out = new Uint8Array(MODEL_INPUT_BYTES);
  for (let y = 0, i = 0; y < 448; y += 1) {
    for (let x = 0; x < 448; x += 1) {
      out[i++] = (x + seed * 37) & 0xff;
      out[i++] = (y + seed * 11) & 0xff;
      out[i++] = ((x ^ y) + seed) & 0xff;
    }
  }
  return out;
}

function* rawBuffers(
  images: readonly Uint8Array[],
  count: number,
): Generator<{ name: string; data: Uint8Array }> {
  for (let i = 0; i < count; i += 1) yield { name: `raw-${i}`, data: images[i % images.length]! };
}

const asRawBgr = (value: ItemOrFailure): ItemOrFailure =>
  value.kind === 'image'
    ? {
        ...value,
        format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
        encoding: RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED,
      }
    : value;

/**
 * Sends `count` raw 602,112-byte items made in memory through `correlate` -> `batch` -> `classify`
 * to the server process, after a short warm-up on the same client (channel connect, first use of
 * the deployment), and divides the client's `process.cpuUsage()` over the run by the images.
 */
export async function measureTransport(
  server: ServerProcess,
  images: readonly Uint8Array[],
  count: number,
): Promise<TransportResult> {
  const client = benchClient(server.address);
  try {
    const deploymentId = deploymentFor('transport');
    const run = (n: number): Promise<Tally> =>
      tally(
        fromBuffers(rawBuffers(images, n), { window: 256 }).pipe(
          map(asRawBgr),
          classifyTail(client, deploymentId),
        ),
      );
    await run(Math.min(64, count));
    const serverCpu0 = server.cpuMs();
    const cpu0 = process.cpuUsage();
    const t0 = now();
    const result = await run(count);
    const wallMs = now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const serverCpu = server.cpuMs() - serverCpu0;
    return {
      images: count,
      wallMs,
      clientCpuMsPerImage: (cpu.user + cpu.system) / 1000 / count,
      clientUserMsPerImage: cpu.user / 1000 / count,
      clientSystemMsPerImage: cpu.system / 1000 / count,
      serverCpuMsPerImage: serverCpu / count,
      imagesPerSecond: (count * 1000) / wallMs,
      tally: result,
    };
  } finally {
    client.close();
  }
}
