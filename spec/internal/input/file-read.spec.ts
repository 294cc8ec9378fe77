import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { copyFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ItemOrFailure } from '../../../src/model.js';
import { fromDirectory } from '../../../src/sources/fromDirectory.js';
import { fromFiles } from '../../../src/sources/fromFiles.js';
import { HEAD_BYTES } from '../../../src/internal/input/limits.js';
import { collect, summary, tempDir } from '../../sources/helpers.js';
import { jpegHead } from '../../support/image-heads.js';

const samples = resolve(import.meta.dirname, '..', '..', '..', 'samples');
let dir: string;
let cleanup: () => Promise<void>;
let fifos: string[];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  fifos = [];
});
afterEach(async () => {
  // A reader stuck in open() on a FIFO (the fault under test) is set free by a writer opening it.
  for (const fifo of fifos) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: nobody is reading it, which is what should be.
    }
  }
  await cleanup();
});

function mkfifo(name: string): string {
  const path = join(dir, name);
  const made = spawnSync('mkfifo', [path], { timeout: 10_000 });
  if (made.status !== 0) throw new Error(`mkfifo failed: ${String(made.stderr)}`);
  fifos.push(path);
  return path;
}

/** `work`, or a rejection after `ms`: a regression hangs one test, not the run. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

const failure = (value: ItemOrFailure | undefined) => {
  if (value?.kind !== 'failure') throw new Error(`expected a failure, got ${value?.kind}`);
  return value;
};

describe('reading files safely (fromFiles, fromDirectory)', () => {
  it('fails FIFOs at once, more of them than libuv has threads, and reads the good files around them', async () => {
    const good = join(dir, 'good.jpg');
    await copyFile(join(samples, '17-dragonfly-small.jpg'), good);
    const pipes = Array.from({ length: 6 }, (_, i) => mkfifo(`pipe-${i}.jpg`));
    const values = await within(20_000, collect(fromFiles([good, ...pipes, good], { concurrency: 8 })));
    expect(values.map((v) => v.kind)).toEqual(['image', ...pipes.map(() => 'failure'), 'image']);
    for (const value of values.slice(1, -1)) {
      expect(failure(value)).toMatchObject({ stage: 'read', error: { code: 'READ_FAILED' } });
      expect(failure(value).error.message).toContain('FIFO');
    }
    // No libuv thread is left waiting on a pipe: an unrelated read in the same process still runs.
    expect((await within(10_000, readFile(good))).byteLength).toBeGreaterThan(0);
  });

  it('fails devices without reading them (/dev/zero never ends)', async () => {
    const values = await within(20_000, collect(fromFiles(['/dev/zero', '/dev/null'])));
    expect(values.map(summary)).toEqual(['/dev/zero:read:READ_FAILED', '/dev/null:read:READ_FAILED']);
    expect(failure(values[0]).error.message).toContain('character device');
  });

  it('keeps EISDIR in the message of a directory', async () => {
    const [value] = await collect(fromFiles([dir]));
    expect(failure(value).error.message).toContain('EISDIR');
  });

  it('fails a sparse 1 GB file from its size alone (FILE_TOO_LARGE), under the 256 MiB default', async () => {
    const big = join(dir, 'big.jpg');
    await writeFile(big, jpegHead(100, 100));
    await truncate(big, 1024 ** 3);
    const [value] = await within(20_000, collect(fromFiles([big])));
    expect(failure(value)).toMatchObject({ ref: big, stage: 'read', error: { code: 'FILE_TOO_LARGE' } });
    expect(failure(value).error.message).toBe(
      `${big} has ${1024 ** 3} bytes, more than the limit of ${256 * 1024 ** 2} bytes`,
    );
  });

  it('applies maxBytes to each file: a file at the cap is read, one byte more fails', async () => {
    await writeFile(join(dir, 'at.jpg'), Buffer.alloc(100, 1));
    await writeFile(join(dir, 'over.jpg'), Buffer.alloc(101, 1));
    const values = await collect(fromDirectory(dir, { maxBytes: 100 }));
    const byRef = Object.fromEntries(values.map((v) => [v.ref, summary(v)]));
    expect(byRef[join(dir, 'at.jpg')]).toBe(join(dir, 'at.jpg'));
    expect(byRef[join(dir, 'over.jpg')]).toBe(`${join(dir, 'over.jpg')}:read:FILE_TOO_LARGE`);
  });

  it('checks the bytes of an injected readFile against the cap once read', async () => {
    const readFile = async () => new Uint8Array(11);
    const values = await collect(fromFiles(['a', 'b'], { readFile, maxBytes: 10 }));
    expect(values.map(summary)).toEqual(['a:read:FILE_TOO_LARGE', 'b:read:FILE_TOO_LARGE']);
  });

  it('judges a file larger than its head from its first bytes: no image format, or too many pixels', async () => {
    const zeros = join(dir, 'zeros.jpg');
    const huge = join(dir, 'huge.jpg');
    const fine = join(dir, 'fine.jpg');
    await writeFile(zeros, '');
    await truncate(zeros, 1024 ** 3 / 4); // under the cap
    await writeFile(huge, jpegHead(20_000, 20_000));
    await writeFile(fine, jpegHead(100, 100));
    const values = await within(20_000, collect(fromFiles([zeros, huge, fine])));
    expect(values.map(summary)).toEqual([
      `${zeros}:read:UNSUPPORTED_FORMAT`,
      `${huge}:read:IMAGE_TOO_MANY_PIXELS`,
      fine,
    ]);
    expect(values[2]?.kind === 'image' && values[2].data.byteLength).toBe(HEAD_BYTES + 1);
    expect(values[2]?.kind === 'image' && [...values[2].data.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    // maxPixels moves the limit.
    const [allowed] = await collect(fromFiles([huge], { maxPixels: 400_000_000 }));
    expect(allowed?.kind).toBe('image');
  });

  it('reads a small file whole whatever its bytes: the judgement is for files larger than the head', async () => {
    await writeFile(join(dir, 'text.jpg'), 'not an image');
    const [value] = await collect(fromFiles([join(dir, 'text.jpg')]));
    expect(value?.kind).toBe('image');
  });

  it('refuses a bad maxBytes or maxPixels when called', () => {
    expect(() => fromFiles([], { maxBytes: 0 })).toThrow(RangeError);
    expect(() => fromDirectory(dir, { maxPixels: 0.5 })).toThrow(TypeError);
  });
});
