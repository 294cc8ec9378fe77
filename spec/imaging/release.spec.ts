import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { runtimeHasTransfer, TRANSFER_FLAG } from '../../src/cli/relaunch.js';
import { AthenaError } from '../../src/errors.js';
import { ImageFormat } from '../../src/generated/athena/models.js';
import { MODEL_INPUT_BYTES, prepareWith, type DecodeWork } from '../../src/imaging/prepare-core.js';
import { releaseSamples, type DecodedPixels } from '../../src/imaging/pixels.js';
import { root } from '../support/cli.js';
import { spiedBuffer } from '../support/spied-buffer.js';

const PNG_HEAD = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13);
const options = { mode: 'exact', maxPixels: 1e8, failOn: 'error' } as const;

function decodedAs(data: Uint8Array, owned: boolean | undefined): DecodeWork {
  const pixels: DecodedPixels = {
    data,
    width: 40,
    height: 30,
    layout: { pixelStride: 3, channelOffsets: [2, 1, 0] },
    imageWidth: 40,
    imageHeight: 30,
    ...(owned === undefined ? {} : { owned }),
  };
  return () => Promise.resolve(pixels);
}

describe('releaseSamples', () => {
  it('detaches a buffer the samples fill, and leaves views on part of a buffer alone', () => {
    const whole = spiedBuffer(64);
    releaseSamples(whole.data);
    expect(whole.transfer).toHaveBeenCalledWith(0);

    const part = spiedBuffer(64);
    releaseSamples(part.data.subarray(8));
    releaseSamples(part.data.subarray(0, 32));
    expect(part.transfer).not.toHaveBeenCalled();

    const empty = spiedBuffer(0);
    releaseSamples(empty.data);
    expect(empty.transfer).not.toHaveBeenCalled();
  });
});

describe('prepareWith and the decoded samples', () => {
  it('releases samples the decoder owns once the stretch has read them', async () => {
    const owned = spiedBuffer(40 * 30 * 3);
    owned.data.fill(200);
    const prepared = await prepareWith(PNG_HEAD, options, decodedAs(owned.data, true));
    expect(prepared.data.length).toBe(MODEL_INPUT_BYTES);
    expect(prepared.data.every((v) => v === 200)).toBe(true);
    expect(prepared.data.buffer).not.toBe(owned.data.buffer);
    expect(owned.transfer).toHaveBeenCalledTimes(1);
  });

  it('never releases samples the decoder does not own (views on the input, say)', async () => {
    for (const flag of [false, undefined]) {
      const shared = spiedBuffer(40 * 30 * 3);
      await prepareWith(PNG_HEAD, options, decodedAs(shared.data, flag));
      expect(shared.transfer).not.toHaveBeenCalled();
    }
  });

  it('releases them when the preparation is cancelled after decoding', async () => {
    const owned = spiedBuffer(40 * 30 * 3);
    const controller = new AbortController();
    const decode: DecodeWork = async (bytes, format) => {
      const pixels = await decodedAs(owned.data, true)(bytes, format);
      controller.abort();
      return pixels;
    };
    const failure = await prepareWith(PNG_HEAD, { ...options, signal: controller.signal }, decode).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AthenaError);
    expect((failure as AthenaError).code).toBe('CANCELLED');
    expect(owned.transfer).toHaveBeenCalledTimes(1);
  });

  it('passes raw model inputs through untouched', async () => {
    const raw = spiedBuffer(MODEL_INPUT_BYTES);
    const decode = vi.fn<DecodeWork>();
    const prepared = await prepareWith(
      raw.data,
      { ...options, format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR },
      decode,
    );
    expect(prepared.data).toBe(raw.data);
    expect(decode).not.toHaveBeenCalled();
    expect(raw.transfer).not.toHaveBeenCalled();
  });
});

/** Runs `work` in a fresh temporary directory, removed afterwards. */
async function inTempDir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'athena-release-'));
  try {
    await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes a one-colour JPEG of `width` x `height` to `path`. */
async function solidJpeg(path: string, width: number, height: number): Promise<void> {
  await sharp({ create: { width, height, channels: 3, background: '#3a7' } })
    .jpeg({ quality: 80 })
    .toFile(path);
}

/** Runs an ES module `script` in a fresh Node with `flags`, from the repository root; its stdout. */
function runModule(flags: readonly string[], script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...flags, '--input-type=module', '-e', script],
      { timeout: 60_000, cwd: root },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
}

/**
 * Prepares one 3000 x 2000 JPEG with the built package in a fresh Node and reports how much
 * memory outside the JavaScript heap grew, with no garbage collection asked for. Sharp is
 * warmed with a small JPEG: a large warm-up would leave 18 MB of garbage that V8 may sweep
 * during the measured call and so take off the growth.
 */
function externalGrowth(flags: string[], jpeg: string, warm: string): Promise<number> {
  const script = `
    import { readFileSync } from 'node:fs';
    const { prepareImage } = await import(${JSON.stringify(join(root, 'dist/index.js'))});
    const bytes = readFileSync(${JSON.stringify(jpeg)});
    await prepareImage(readFileSync(${JSON.stringify(warm)})); // sharp loaded and warm
    const before = process.memoryUsage().external;
    const prepared = await prepareImage(bytes);
    const growth = process.memoryUsage().external - before;
    if (prepared.data.length !== ${MODEL_INPUT_BYTES}) throw new Error('not a model input');
    process.stdout.write(String(growth));`;
  return runModule(flags, script).then(Number);
}

describe('decoded pixels of a real photo-sized JPEG', () => {
  it('are freed as soon as the stretch has read them where ArrayBuffer transfer exists', async () => {
    await inTempDir(async (dir) => {
      const jpeg = join(dir, 'large.jpg');
      await solidJpeg(jpeg, 3000, 2000);
      const warm = join(dir, 'small.jpg');
      await solidJpeg(warm, 64, 48);
      const decodedBytes = 3000 * 2000 * 3;
      const released = await externalGrowth([TRANSFER_FLAG], jpeg, warm);
      expect(released).toBeLessThan(decodedBytes / 4);
      if (!runtimeHasTransfer()) {
        // Node 20 without the flag keeps the 18 MB buffer until a collection finds it: the
        // measurement sees a decode that is not released. A collection V8 starts on its own may
        // still free it first, so the control has three tries; one that sees it is enough.
        const growths: number[] = [];
        while (growths.length < 3 && !growths.some((growth) => growth >= decodedBytes)) {
          growths.push(await externalGrowth([], jpeg, warm));
        }
        expect(Math.max(...growths)).toBeGreaterThanOrEqual(decodedBytes);
      }
    });
  }, 60_000);
});

/**
 * Reads `jpeg` twice through `fromFiles` and `resize({ releaseInput })` with the built package in
 * a fresh Node with ArrayBuffer transfer, and reports the byte lengths the read bytes have once
 * resized and how many model inputs came out.
 */
function readBytesAfterResize(
  releaseInput: boolean,
  jpeg: string,
): Promise<{ sizes: number[]; prepared: number }> {
  const script = `
    const { lastValueFrom, tap, toArray } = await import('rxjs');
    const { fromFiles } = await import(${JSON.stringify(join(root, 'dist/sources/index.js'))});
    const { releaseLeases, resize } = await import(${JSON.stringify(join(root, 'dist/operators/index.js'))});
    const read = [];
    const out = await lastValueFrom(
      fromFiles([${JSON.stringify(jpeg)}, ${JSON.stringify(jpeg)}]).pipe(
        tap((v) => { if (v.kind === 'image') read.push(v.data); }),
        resize({ releaseInput: ${String(releaseInput)} }),
        releaseLeases(),
        toArray(),
      ),
    );
    const prepared = out.filter((v) => v.kind === 'image' && v.data.length === ${MODEL_INPUT_BYTES}).length;
    process.stdout.write(JSON.stringify({ sizes: read.map((d) => d.byteLength), prepared }));`;
  const flags = runtimeHasTransfer() ? [] : [TRANSFER_FLAG];
  return runModule(flags, script).then(
    (stdout) => JSON.parse(stdout) as { sizes: number[]; prepared: number },
  );
}

describe("resize's releaseInput over files read by fromFiles", () => {
  it('detaches the bytes read once each model input is made, and keeps them without it', async () => {
    await inTempDir(async (dir) => {
      const jpeg = join(dir, 'photo.jpg');
      await solidJpeg(jpeg, 1200, 800);
      const released = await readBytesAfterResize(true, jpeg);
      expect(released).toEqual({ sizes: [0, 0], prepared: 2 });
      const kept = await readBytesAfterResize(false, jpeg);
      expect(kept.prepared).toBe(2);
      expect(kept.sizes.every((size) => size > 1000)).toBe(true);
    });
  }, 60_000);
});
