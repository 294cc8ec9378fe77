import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imageItem, type ItemOrFailure } from '../../../src/model.js';
import { fromPulled, skipOption, type ReadEntry } from '../../../src/internal/flow/source.js';
import { releaseLeases } from '../../../src/operators/releaseLeases.js';
import { fromDirectory } from '../../../src/sources/fromDirectory.js';
import { fromFiles } from '../../../src/sources/fromFiles.js';
import { fromUrls } from '../../../src/sources/fromUrls.js';
import type { FetchLike } from '../../../src/sources/fromUrls.js';
import { collect, tempDir } from '../../sources/helpers.js';

const item = (ref: string, index: number): ItemOrFailure =>
  imageItem({ ref, data: new Uint8Array([1]), index });

const testScheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

const refs = (source: Observable<ItemOrFailure>): Observable<string> =>
  source.pipe(
    releaseLeases(),
    map((v) => (v.kind === 'failure' ? `${v.ref}:${v.error.code}` : `${v.ref}@${v.index}`)),
  );

describe('fromPulled skip (marbles)', () => {
  it('leaves skipped entries out without reading them, keeping the others at their index', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const readCalls: string[] = [];
      const read: ReadEntry<string> = (e, i) => {
        readCalls.push(e);
        return cold('--x|', { x: item(e, i) });
      };
      const source = fromPulled(() => ['a', 'b', 'c', 'd'], read, {
        window: 1,
        concurrency: 1,
        skip: (e) => e === 'b' || e === 'c',
      });
      expectObservable(refs(source)).toBe('--x-(y|)', { x: 'a@0', y: 'd@3' });
    });
  });

  it('waits for a later answer, and a skip that fails becomes a read failure of that input', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const read: ReadEntry<string> = (e, i) => cold('-x|', { x: item(e, i) });
      const answers: Record<string, Observable<boolean>> = {
        a: cold('---(t|)', { t: true }),
        b: cold('-(f|)', { f: false }),
        c: cold('-#', undefined, new Error('journal gone')),
        d: cold('--|'),
      };
      const source = fromPulled(() => ['a', 'b', 'c', 'd'], read, {
        window: 4,
        concurrency: 4,
        skip: (e) => answers[e] ?? false,
      });
      // a: skipped at 3; b: read from 1, out at 2 but after a's place settles; c: failure; d: no answer = read.
      expectObservable(refs(source)).toBe('---(bcd|)', { b: 'b@1', c: 'c:READ_FAILED', d: 'd@3' });
    });
  });

  it('completes at once when every entry is skipped, with the window never exhausted', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const read: ReadEntry<string> = (e, i) => cold('-x|', { x: item(e, i) });
      const entries = Array.from({ length: 100 }, (_, i) => `e${i}`);
      const source = fromPulled(() => entries, read, { window: 2, concurrency: 2, skip: () => true });
      expectObservable(refs(source)).toBe('|');
    });
  });

  it('validates the option', () => {
    expect(skipOption(undefined)).toBeUndefined();
    expect(() => skipOption(true)).toThrow(TypeError);
    expect(() => fromFiles([], { skip: 'a' as never })).toThrow(TypeError);
    expect(() => fromDirectory('.', { skip: 1 as never })).toThrow(TypeError);
    expect(() => fromUrls([], { skip: {} as never })).toThrow(TypeError);
  });
});

describe('sources with skip', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  it('fromFiles never reads a skipped path, and asks about each path once', async () => {
    const paths = ['a', 'b', 'c'].map((n) => join(dir, `${n}.jpg`));
    for (const path of paths) await writeFile(path, Buffer.from([1]));
    const read: string[] = [];
    const asked: string[] = [];
    const values = await collect(
      fromFiles(paths, {
        readFile: async (path) => {
          read.push(path);
          return new Uint8Array([1]);
        },
        skip: async (ref) => {
          asked.push(ref);
          return ref.endsWith('b.jpg');
        },
      }),
    );
    expect(values.map((v) => v.ref)).toEqual([paths[0], paths[2]]);
    expect(values.map((v) => v.index)).toEqual([0, 2]);
    expect(read.sort()).toEqual([paths[0], paths[2]]);
    expect(asked.sort()).toEqual([...paths].sort());
  });

  it('fromDirectory skips files by path before reading them', async () => {
    for (const name of ['a.jpg', 'b.jpg', 'c.jpg']) await writeFile(join(dir, name), Buffer.from([7]));
    const read: string[] = [];
    const values = await collect(
      fromDirectory(dir, {
        readFile: async (path) => {
          read.push(path);
          return new Uint8Array([7]);
        },
        skip: (ref) => ref !== join(dir, 'c.jpg'),
      }),
    );
    expect(values.map((v) => v.ref)).toEqual([join(dir, 'c.jpg')]);
    expect(read).toEqual([join(dir, 'c.jpg')]);
  });

  it('fromUrls asks with the redacted ref and never fetches a skipped URL', async () => {
    const fetched: string[] = [];
    const fetch: FetchLike = async (url) => {
      fetched.push(String(url));
      return new Response(new Uint8Array([1, 2]), { status: 200 }) as never;
    };
    const asked: string[] = [];
    const values = await collect(
      fromUrls(['http://127.0.0.1:1/a.jpg?sig=SECRET', 'http://127.0.0.1:1/b.jpg'], {
        fetch,
        skip: (ref) => {
          asked.push(ref);
          return ref.includes('/a.jpg');
        },
      }),
    );
    expect(asked).toEqual(['http://127.0.0.1:1/a.jpg?<redacted>', 'http://127.0.0.1:1/b.jpg']);
    expect(fetched).toEqual(['http://127.0.0.1:1/b.jpg']);
    expect(values.map((v) => v.ref)).toEqual(['http://127.0.0.1:1/b.jpg']);
  });
});
