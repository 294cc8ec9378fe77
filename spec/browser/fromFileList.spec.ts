/**
 * `fromFileList` in Node, on Node's own `Blob` and `File` (the same Web API classes a browser has):
 * lazy reads under the credit window, refs, and the `read` failures of the Node sources.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, take, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { fromFileList } from '../../src/browser/fromFileList.js';
import type { BlobLike, FileListLike } from '../../src/browser/web.js';
import { root } from '../support/package.js';

/** A `File` that counts how often its bytes (whole or sliced) are read. */
function counted(file: File, reads: string[]): BlobLike {
  return {
    size: file.size,
    name: file.name,
    slice: (start, end) => {
      const part = file.slice(start, end);
      return {
        size: part.size,
        slice: () => part,
        arrayBuffer: () => (reads.push(`${file.name}[head]`), part.arrayBuffer()),
      };
    },
    arrayBuffer: () => (reads.push(file.name), file.arrayBuffer()),
  };
}

const photo = async (): Promise<Uint8Array> => readFile(join(root, 'samples/17-dragonfly-small.jpg'));

describe('fromFileList', () => {
  it('reads a FileList in order with each file name as ref and its position as index', async () => {
    const bytes = await photo();
    const files = [new File([bytes], 'a.jpg'), new File([bytes.subarray(0, 10)], 'b.jpg'), new Blob([bytes])];
    const list: FileListLike = { length: files.length, item: (i) => files[i] ?? null };
    const items = await lastValueFrom(fromFileList(list).pipe(toArray()));
    expect(items.map((item) => [item.kind, item.ref, item.index])).toEqual([
      ['image', 'a.jpg', 0],
      ['image', 'b.jpg', 1],
      ['image', 'blob-2', 2],
    ]);
    const first = items[0]!;
    expect(first.kind === 'image' && Buffer.from(first.data).equals(bytes)).toBe(true);
  });

  it('names inputs with the ref function when given', async () => {
    const files = [new File([new Uint8Array([1])], 'x.jpg')];
    const item = await firstValueFrom(fromFileList(files, { ref: (file, i) => `upload-${i}-${file.name}` }));
    expect(item.ref).toBe('upload-0-x.jpg');
  });

  it('reads nothing before subscribe and at most window files until leases are released', async () => {
    const bytes = await photo();
    const reads: string[] = [];
    const files = Array.from({ length: 6 }, (_, i) => counted(new File([bytes], `p${i}.jpg`), reads));
    const source = fromFileList(files, { window: 2, concurrency: 1 });
    expect(reads).toEqual([]);
    const held = await lastValueFrom(source.pipe(take(2), toArray()));
    await new Promise((done) => setTimeout(done, 50));
    // Two items out, none released: the window is full and the third file was never read.
    expect(reads.filter((r) => !r.endsWith('[head]'))).toEqual(['p0.jpg', 'p1.jpg']);
    expect(held).toHaveLength(2);

    reads.length = 0;
    const all = await lastValueFrom(
      source.pipe(
        tap((item) => item.lease?.release()),
        toArray(),
      ),
    );
    expect(all.map((item) => item.ref)).toEqual(files.map((f) => f.name));
  });

  it('fails too large, empty and non-image files at stage read, judging large ones by their head alone', async () => {
    const reads: string[] = [];
    const text = new File([new Uint8Array(200_000).fill(0x61)], 'notes.txt');
    const files = [
      counted(text, reads),
      new File([], 'empty.jpg'),
      new File([new Uint8Array(2_000)], 'big.jpg'),
    ];
    const items = await lastValueFrom(fromFileList(files, { maxBytes: 1_000_000 }).pipe(toArray()));
    const small = await lastValueFrom(fromFileList([files[2]!], { maxBytes: 1_000 }).pipe(toArray()));
    const codes = [...items, ...small].map((i) =>
      i.kind === 'failure' ? `${i.stage}:${i.error.code}` : i.kind,
    );
    expect(codes).toEqual(['read:UNSUPPORTED_FORMAT', 'read:EMPTY_INPUT', 'image', 'read:FILE_TOO_LARGE']);
    // The 200 KB text file was judged from its first 64 KiB; its whole bytes were never read.
    expect(reads).toEqual(['notes.txt[head]']);
  });

  it('refuses what is not a FileList or an array of blobs, and bad options, when called', () => {
    expect(() => fromFileList('a.jpg' as never)).toThrow(TypeError);
    expect(() => fromFileList([new Uint8Array(1)] as never)).toThrow(TypeError);
    expect(() => fromFileList([], { window: 0 })).toThrow(RangeError);
    expect(() => fromFileList([], { ref: 'name' as never })).toThrow(TypeError);
  });
});
