import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { take, toArray, lastValueFrom } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ItemOrFailure } from '../../src/model.js';
import type { ReadFile } from '../../src/internal/input/file-read.js';
import { fromDirectory } from '../../src/sources/fromDirectory.js';
import { collect, summary, tempDir, ticks, waitFor } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

const put = (path: string, bytes: number[] = [1]) => writeFile(join(dir, path), Buffer.from(bytes));
const sorted = (values: ItemOrFailure[]) => values.map(summary).sort();

describe('fromDirectory', () => {
  beforeEach(async () => {
    await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
    await put('a.jpg');
    await put('B.JPEG');
    await put('notes.txt');
    await put('noext');
    await put('sub/c.png');
    await put('sub/deeper/d.WebP');
  });

  it('walks recursively, reading the common image extensions case-insensitively', async () => {
    const values = await collect(fromDirectory(dir));
    expect(sorted(values)).toEqual(
      ['a.jpg', 'B.JPEG', 'sub/c.png', 'sub/deeper/d.WebP'].map((p) => join(dir, p)).sort(),
    );
    expect(values.map((v) => v.index)).toEqual([0, 1, 2, 3]);
    expect(values.every((v) => v.kind === 'image' && v.data.byteLength === 1)).toBe(true);
  });

  it('stays in the directory when not recursive', async () => {
    const values = await collect(fromDirectory(dir, { recursive: false }));
    expect(sorted(values)).toEqual([join(dir, 'B.JPEG'), join(dir, 'a.jpg')].sort());
  });

  it('takes extensions with or without the dot, and null for every file', async () => {
    const txt = await collect(fromDirectory(dir, { extensions: ['TXT', '.png'] }));
    expect(sorted(txt)).toEqual([join(dir, 'notes.txt'), join(dir, 'sub/c.png')].sort());
    const all = await collect(fromDirectory(dir, { extensions: null, recursive: false }));
    expect(sorted(all)).toEqual(['B.JPEG', 'a.jpg', 'noext', 'notes.txt'].map((p) => join(dir, p)).sort());
  });

  it('gives a read failure for an empty file and goes on', async () => {
    await writeFile(join(dir, 'sub', 'empty.gif'), Buffer.alloc(0));
    const values = await collect(fromDirectory(join(dir, 'sub')));
    expect(sorted(values)).toEqual(
      [
        `${join(dir, 'sub/empty.gif')}:read:EMPTY_INPUT`,
        join(dir, 'sub/c.png'),
        join(dir, 'sub/deeper/d.WebP'),
      ].sort(),
    );
  });

  it('skips symbolic links by default, follows them when asked, and ends link loops', async () => {
    await symlink(dir, join(dir, 'sub', 'loop'));
    await symlink(join(dir, 'a.jpg'), join(dir, 'sub', 'link.jpg'));
    await symlink(join(dir, 'gone.jpg'), join(dir, 'sub', 'dangling.jpg'));
    const plain = await collect(fromDirectory(join(dir, 'sub')));
    expect(sorted(plain)).toEqual([join(dir, 'sub/c.png'), join(dir, 'sub/deeper/d.WebP')].sort());

    const followed = await collect(fromDirectory(join(dir, 'sub'), { followSymlinks: true }));
    // sub/loop leads back to the root, which holds sub again: each directory is walked once.
    expect(sorted(followed)).toEqual(
      ['sub/c.png', 'sub/deeper/d.WebP', 'sub/link.jpg', 'sub/loop/a.jpg', 'sub/loop/B.JPEG']
        .map((p) => join(dir, p))
        .concat(`${join(dir, 'sub/dangling.jpg')}:read:READ_FAILED`)
        .sort(),
    );
  });

  it('gives one failure for a missing root, then completes', async () => {
    const values = await collect(fromDirectory(join(dir, 'nope')));
    expect(values.map(summary)).toEqual([`${join(dir, 'nope')}:read:READ_FAILED`]);
    expect(values[0]!.index).toBe(0);
  });

  it('gives a failure for a directory that vanishes mid-walk and goes on', async () => {
    const root = join(dir, 'two');
    for (const name of ['x', 'y']) {
      await mkdir(join(root, name), { recursive: true });
      for (const file of ['1.jpg', '2.jpg', '3.jpg']) await writeFile(join(root, name, file), 'data');
    }
    const seen: ItemOrFailure[] = [];
    await new Promise<void>((resolve, reject) => {
      fromDirectory(root, { window: 1 }).subscribe({
        next: (value) => {
          seen.push(value);
          if (seen.length === 1) {
            // Still walking the first directory: remove the other one before the walk gets there.
            const other = value.ref.startsWith(join(root, 'x')) ? 'y' : 'x';
            rm(join(root, other), { recursive: true }).then(() => value.lease?.release(), reject);
          } else {
            value.lease?.release();
          }
        },
        error: reject,
        complete: resolve,
      });
    });
    const first = seen[0]!.ref.startsWith(join(root, 'x')) ? 'x' : 'y';
    const other = first === 'x' ? 'y' : 'x';
    expect(sorted(seen)).toEqual(
      ['1.jpg', '2.jpg', '3.jpg']
        .map((f) => join(root, first, f))
        .concat(`${join(root, other)}:read:READ_FAILED`)
        .sort(),
    );
  });

  it('walks lazily: taking 3 items of 5,000 reads only about a window of files', async () => {
    const big = join(dir, 'big');
    await mkdir(big);
    await Promise.all(Array.from({ length: 5000 }, (_, i) => writeFile(join(big, `${i}.jpg`), 'x')));
    let reads = 0;
    const readFile: ReadFile = async () => {
      reads += 1;
      return new Uint8Array([1]);
    };
    const taken = await lastValueFrom(fromDirectory(big, { readFile, window: 4 }).pipe(take(3), toArray()));
    await ticks();
    expect(taken).toHaveLength(3);
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(reads).toBeLessThanOrEqual(4);
  });

  it('touches nothing before subscribe', async () => {
    let reads = 0;
    const readFile: ReadFile = async () => {
      reads += 1;
      return new Uint8Array([1]);
    };
    const source = fromDirectory(dir, { readFile });
    await ticks();
    expect(reads).toBe(0);
    expect((await collect(source)).length).toBe(4);
    expect(reads).toBe(4);
  });

  it('validates its arguments when called', () => {
    expect(() => fromDirectory('')).toThrow(RangeError);
    expect(() => fromDirectory(dir, { recursive: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => fromDirectory(dir, { extensions: [] })).toThrow(RangeError);
    expect(() => fromDirectory(dir, { extensions: 'jpg' as unknown as string[] })).toThrow(TypeError);
    expect(() => fromDirectory(dir, { window: -1 })).toThrow(RangeError);
  });
});

describe('fromDirectory: lease.source.unread()', () => {
  it('does not know what is left of a walk until the walk is finished, 0 then', async () => {
    await put('a.jpg');
    await put('b.jpg');
    await put('c.jpg');
    const seen: ItemOrFailure[] = [];
    const subscription = fromDirectory(dir, { window: 1 }).subscribe((v) => seen.push(v));
    await waitFor(() => seen.length >= 1);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.lease!.source!.unread()).toBeUndefined();
    subscription.unsubscribe();
    const all = await collect(fromDirectory(dir, { window: 1 }));
    expect(all).toHaveLength(3);
    expect(all[0]!.lease!.source!.unread()).toBe(0);
  });
});
