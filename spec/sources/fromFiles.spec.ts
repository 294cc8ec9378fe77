import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ItemOrFailure } from '../../src/model.js';
import { releaseLeases } from '../../src/operators/releaseLeases.js';
import { fromFiles } from '../../src/sources/fromFiles.js';
import type { ReadFile } from '../../src/internal/input/file-read.js';
import { collect, summary, tempDir, ticks, waitFor } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

describe('fromFiles', () => {
  it('reads each file into an item with ref, index and the bytes', async () => {
    await writeFile(join(dir, 'a.jpg'), Buffer.from([1, 2, 3]));
    await writeFile(join(dir, 'b.png'), Buffer.from([4, 5]));
    const values = await collect(fromFiles([join(dir, 'a.jpg'), join(dir, 'b.png')]));
    expect(values.map(summary)).toEqual([join(dir, 'a.jpg'), join(dir, 'b.png')]);
    expect(values.map((v) => v.index)).toEqual([0, 1]);
    expect(values.map((v) => (v.kind === 'image' ? [...v.data] : []))).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('gives read failures for unreadable and empty files and goes on, in source order', async () => {
    await writeFile(join(dir, 'ok.jpg'), Buffer.from([9]));
    await writeFile(join(dir, 'empty.jpg'), Buffer.alloc(0));
    await mkdir(join(dir, 'folder.jpg'));
    await symlink(join(dir, 'nowhere.jpg'), join(dir, 'dangling.jpg'));
    const paths = ['missing.jpg', 'empty.jpg', 'folder.jpg', 'dangling.jpg', 'ok.jpg'].map((n) =>
      join(dir, n),
    );
    const values = await collect(fromFiles(paths, { concurrency: 3 }));
    expect(values.map(summary)).toEqual([
      `${paths[0]}:read:READ_FAILED`,
      `${paths[1]}:read:EMPTY_INPUT`,
      `${paths[2]}:read:READ_FAILED`,
      `${paths[3]}:read:READ_FAILED`,
      paths[4],
    ]);
    expect(values.map((v) => v.index)).toEqual([0, 1, 2, 3, 4]);
    const failure = values[2]!;
    expect(failure.kind === 'failure' && failure.error.message).toContain('EISDIR');
  });

  it('takes an async iterable of paths and refuses entries that are not paths', async () => {
    await writeFile(join(dir, 'a.jpg'), Buffer.from([1]));
    async function* paths(): AsyncGenerator<string> {
      yield join(dir, 'a.jpg');
      yield 42 as unknown as string;
    }
    const values = await collect(fromFiles(paths()));
    expect(values.map(summary)).toEqual([join(dir, 'a.jpg'), '42:read:INVALID_INPUT']);
  });

  it('does nothing before subscribe and reads again on each subscription', async () => {
    const calls: string[] = [];
    const readFile: ReadFile = async (path) => {
      calls.push(path);
      return new Uint8Array([1]);
    };
    const source = fromFiles(['x', 'y'], { readFile });
    await ticks();
    expect(calls).toEqual([]);
    await collect(source);
    await collect(source);
    expect(calls).toEqual(['x', 'y', 'x', 'y']);
  });

  it('reads at most `concurrency` files at once', async () => {
    let running = 0;
    let most = 0;
    const readFile: ReadFile = async () => {
      running += 1;
      most = Math.max(most, running);
      await ticks(2);
      running -= 1;
      return new Uint8Array([1]);
    };
    const paths = Array.from({ length: 12 }, (_, i) => `f${i}.jpg`);
    const values = await collect(fromFiles(paths, { readFile, concurrency: 3 }));
    expect(values.map(summary)).toEqual(paths);
    expect(most).toBe(3);
  });

  it('aborts reads in flight on unsubscribe', async () => {
    const aborted: string[] = [];
    const readFile: ReadFile = (path, signal) =>
      new Promise((_, reject) => {
        signal.addEventListener('abort', () => {
          aborted.push(path);
          reject(new Error('aborted'));
        });
      });
    const subscription = fromFiles(['a', 'b', 'c'], { readFile, concurrency: 2 }).subscribe();
    await ticks();
    subscription.unsubscribe();
    expect(aborted).toEqual(['a', 'b']);
  });

  it('validates its arguments when called', () => {
    expect(() => fromFiles('a.jpg' as unknown as string[])).toThrow(TypeError);
    expect(() => fromFiles([], { window: 0 })).toThrow(RangeError);
    expect(() => fromFiles([], { concurrency: 1.5 })).toThrow(TypeError);
    expect(() => fromFiles([], { readFile: 'fs' as unknown as ReadFile })).toThrow(TypeError);
  });
});

describe('fromFiles: lease.source.unread()', () => {
  it('counts the paths of a list not pulled yet, and keeps the count after unsubscribe', async () => {
    const paths = ['a', 'b', 'c', 'd', 'e'].map((name) => join(dir, `${name}.jpg`));
    for (const path of paths) await writeFile(path, Buffer.from([1]));
    const seen: ItemOrFailure[] = [];
    const subscription = fromFiles(paths, { window: 2, concurrency: 1 }).subscribe((v) => seen.push(v));
    await waitFor(() => seen.length === 2);
    expect(seen).toHaveLength(2);
    const source = seen[0]!.lease!.source!;
    expect(seen[1]!.lease!.source).toBe(source);
    expect(source.unread()).toBe(3);
    seen[0]!.lease!.release();
    await waitFor(() => seen.length === 3);
    expect(source.unread()).toBe(2);
    subscription.unsubscribe();
    expect(source.unread()).toBe(2);
  });

  it('gives each subscription its own count, down to 0 at the end', async () => {
    const paths = new Set([join(dir, 'a.jpg'), join(dir, 'b.jpg')]);
    for (const path of paths) await writeFile(path, Buffer.from([1]));
    const source$ = fromFiles(paths, { window: 1 });
    const first = await collect(source$);
    const firstCount = first[0]!.lease!.source!;
    expect(firstCount.unread()).toBe(0);
    const seen: ItemOrFailure[] = [];
    const subscription = source$.subscribe((v) => seen.push(v));
    await waitFor(() => seen.length === 1);
    expect(seen[0]!.lease!.source).not.toBe(firstCount);
    expect(seen[0]!.lease!.source!.unread()).toBe(1);
    subscription.unsubscribe();
  });

  it('does not know the count of a generator of paths until it has ended', async () => {
    await writeFile(join(dir, 'a.jpg'), Buffer.from([1]));
    await writeFile(join(dir, 'b.jpg'), Buffer.from([1]));
    function* paths(): Generator<string> {
      yield join(dir, 'a.jpg');
      yield join(dir, 'b.jpg');
    }
    const during: Array<number | undefined> = [];
    const values = await lastValueFrom(
      fromFiles(paths(), { window: 1 }).pipe(
        tap((v) => during.push(v.lease?.source?.unread())),
        releaseLeases(),
        toArray(),
      ),
    );
    expect(during).toEqual([undefined, undefined]);
    expect(values[1]!.lease!.source!.unread()).toBe(0);
  });
});
