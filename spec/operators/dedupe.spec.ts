import fc from 'fast-check';
import { from, lastValueFrom, map, mergeMap, of, throwError, timer, toArray, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import {
  HashType,
  ImageFormat,
  imageItem,
  toFailure,
  type Classified,
  type ImageItem,
  type ItemOrFailure,
  type Lease,
  type Outcome,
} from '../../src/model.js';
import { classify } from '../../src/operators/classify.js';
import { correlate } from '../../src/operators/correlate.js';
import { createDedupeCache, dedupe } from '../../src/operators/dedupe.js';
import { hashImage } from '../../src/operators/hashImage.js';
import { fromBuffers } from '../../src/sources/fromBuffers.js';
import { MODEL_INPUT_BYTES, startAthenaServer, type AthenaServer } from '../../src/testing/index.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';

/** An item whose SHA1 is `content`. */
const item = (ref: string, content: string | undefined, extra: Partial<ImageItem> = {}): ImageItem =>
  imageItem({
    ref,
    data: new Uint8Array([1]),
    correlationId: `c-${ref}`,
    hashes: content === undefined ? [] : [{ value: content, type: HashType.HASH_TYPE_SHA1 }],
    ...extra,
  });

/** What the fake service answers: a weight taken from the ref, so a cached answer shows whose it was. */
const answer = (value: ImageItem): Classified => ({
  kind: 'classified',
  ok: true,
  ref: value.ref,
  correlationId: value.correlationId ?? 'none',
  classifications: [{ label: 'UnknownCSAM-Trees', weight: value.ref.length / 10 }],
  labels: { 'UnknownCSAM-Trees': value.ref.length / 10 },
  ...(value.index === undefined ? {} : { index: value.index }),
  ...(value.meta === undefined ? {} : { meta: value.meta }),
  ...(value.lease === undefined ? {} : { lease: value.lease }),
});

const cachedAs = (value: ImageItem, from: ImageItem): Classified => {
  const { lease: _, ...rest } = answer(from);
  return {
    ...rest,
    ref: value.ref,
    correlationId: value.correlationId ?? rest.correlationId,
    cached: true,
    ...(value.index === undefined ? {} : { index: value.index }),
  };
};

/** A fake classify: answers each image after `frames`, failing refs that start with `bad`. */
const fakeClassify =
  (frames: number) =>
  (items$: Observable<ItemOrFailure>): Observable<Outcome> =>
    items$.pipe(
      mergeMap((value) =>
        value.kind !== 'image'
          ? of(value)
          : timer(frames).pipe(
              map(() =>
                value.ref.startsWith('bad')
                  ? toFailure(value, 'classify', new AthenaError('MODEL_ERROR', 'model failed'))
                  : answer(value),
              ),
            ),
      ),
    );

const noLease = <T extends { lease?: Lease }>(value: T): Omit<T, 'lease'> => {
  const { lease: _, ...rest } = value;
  return rest;
};
const strip = (outcomes: Observable<Outcome>) => outcomes.pipe(map(noLease));

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const a = item('a', 'h1');
const x = item('x', 'h1');
const y = item('y', 'h1');
const b = item('bb', 'h2');

describe('dedupe (marbles)', () => {
  it('completes on an empty source', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ItemOrFailure>('|').pipe(dedupe({}, fakeClassify(2)))).toBe('|');
    });
  });

  it('classifies one item through the inner pipeline', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const output = cold<ItemOrFailure>('a|', { a }).pipe(dedupe({}, fakeClassify(2)));
      expectObservable(strip(output)).toBe('--(A|)', { A: noLease(answer(a)) });
    });
  });

  it('joins a repeat in flight, answers a later repeat from the cache, classifies other content', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const output = cold<ItemOrFailure>('-ax--b----y|', { a, x, b, y }).pipe(dedupe({}, fakeClassify(2)));
      expectObservable(strip(output)).toBe('---(AX)B--Y|', {
        A: noLease(answer(a)),
        X: cachedAs(x, a),
        B: noLease(answer(b)),
        Y: cachedAs(y, a),
      });
    });
  });

  it('gives a waiting repeat a copy of a failure, and does not cache failures', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const bad = item('bad', 'h1');
      const error = new AthenaError('MODEL_ERROR', 'model failed');
      const output = cold<ItemOrFailure>('-ax-----y|', { a: bad, x, y }).pipe(dedupe({}, fakeClassify(2)));
      expectObservable(strip(output)).toBe('---(FG)---(Y|)', {
        F: toFailure(noLease(bad), 'classify', error),
        G: toFailure(x, 'classify', error),
        Y: noLease(answer(y)),
      });
    });
  });

  it('sends items without a key and failures through the pipeline', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const plain = item('p', undefined);
      const again = item('q', undefined);
      const f = toFailure({ ref: 'f' }, 'read', new AthenaError('READ_FAILED', 'gone'));
      const output = cold<ItemOrFailure>('pqf|', { p: plain, q: again, f }).pipe(dedupe({}, fakeClassify(4)));
      expectObservable(strip(output)).toBe('--f-P(Q|)', { P: answer(plain), Q: answer(again), f });
    });
  });

  it('passes a source error on', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ItemOrFailure>('-a#', { a }).pipe(dedupe({}, fakeClassify(2)))).toBe('--#');
    });
  });

  it('gives waiting repeats a failure before passing an error of the pipeline on', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const broken = (items$: Observable<ItemOrFailure>) =>
        items$.pipe(mergeMap(() => timer(2).pipe(mergeMap(() => throwError(() => new Error('link down'))))));
      const output = cold<ItemOrFailure>('-ax-', { a, x }).pipe(dedupe({}, broken));
      expectObservable(strip(output)).toBe(
        '---(G#)',
        {
          G: toFailure(x, 'transport', new AthenaError('UNKNOWN', 'link down')),
        },
        new Error('link down'),
      );
    });
  });

  it('waits on a never-ending source and unsubscribes both sides early', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<ItemOrFailure>('-a-----', { a });
      const pending = cold<Outcome>('-------');
      const output = source.pipe(dedupe({}, (items$) => items$.pipe(mergeMap(() => pending))));
      expectObservable(output, '^---!').toBe('-----');
      expectSubscriptions(source.subscriptions).toBe('^---!');
      expectSubscriptions(pending.subscriptions).toBe('-^--!');
      expectObservable(strip(cold<ItemOrFailure>('-a--', { a }).pipe(dedupe({}, fakeClassify(1))))).toBe(
        '--A-',
        {
          A: noLease(answer(a)),
        },
      );
    });
  });
});

describe('dedupe', () => {
  const run = (values: ItemOrFailure[], operator: ReturnType<typeof dedupe>) =>
    lastValueFrom(from(values).pipe(operator, toArray()));
  const instant = (items$: Observable<ItemOrFailure>): Observable<Outcome> =>
    items$.pipe(map((v) => (v.kind === 'image' ? answer(v) : v)));

  it('answers a repeat with its own ref, id, index and meta, and releases its lease', async () => {
    const released: string[] = [];
    const lease = (name: string): Lease => ({ release: () => released.push(name) });
    const first = item('first', 'h9', { index: 0, lease: lease('first') });
    const repeat = item('repeat', 'h9', { index: 1, meta: { user: 3 }, lease: lease('repeat') });
    const [one, two] = (await run([first, repeat], dedupe({}, instant))) as Classified[];
    expect(one!.cached).toBeUndefined();
    expect(two).toMatchObject({
      ref: 'repeat',
      correlationId: 'c-repeat',
      index: 1,
      meta: { user: 3 },
      cached: true,
    });
    expect(two!.labels).toEqual(one!.labels);
    expect(released).toEqual(['repeat']);
  });

  it('shares a cache across runs only when given one, and keeps scopes apart', async () => {
    let classified = 0;
    const counting = (items$: Observable<ItemOrFailure>) =>
      instant(items$).pipe(map((v) => ((classified += v.kind === 'classified' ? 1 : 0), v)));
    await run([item('a', 'h1')], dedupe({}, counting));
    await run([item('a', 'h1')], dedupe({}, counting));
    expect(classified).toBe(2);

    const cache = createDedupeCache();
    await run([item('a', 'h1')], dedupe({ cache, scope: 'dep-1' }, counting));
    const again = await run([item('b', 'h1')], dedupe({ cache, scope: 'dep-1' }, counting));
    expect(classified).toBe(3);
    expect((again[0] as Classified).cached).toBe(true);
    await run([item('c', 'h1')], dedupe({ cache, scope: 'dep-2' }, counting));
    expect(classified).toBe(4);
  });

  it('uses a custom key', async () => {
    const byRef = dedupe({ key: (i) => i.ref.slice(0, 1) }, instant);
    const values = (await run([item('k1', 'z1'), item('k2', 'z2'), item('m', 'z1')], byRef)) as Classified[];
    expect(values.map((v) => v.cached ?? false)).toEqual([false, true, false]);
  });

  it('matches outcomes to items when the pipeline replaces their lease', async () => {
    const inner = (items$: Observable<ItemOrFailure>) =>
      items$.pipe(
        correlate({ provider: (i) => `id-${i.ref}`, overwrite: true }),
        mergeMap((v) => timer(5).pipe(map(() => (v.kind === 'image' ? answer(v) : v)))),
      );
    const values = (await run(
      [item('a', 'h1', { index: 0 }), item('x', 'h1', { index: 1 })],
      dedupe({}, inner),
    )) as Classified[];
    expect(values.map((v) => [v.ref, v.cached ?? false])).toEqual([
      ['a', false],
      ['x', true],
    ]);
  });

  it('fails waiting repeats when the pipeline ends without answering the first copy', async () => {
    const silent = (items$: Observable<ItemOrFailure>) => items$.pipe(mergeMap(() => [] as Outcome[]));
    const values = await run([item('a', 'h1'), item('x', 'h1')], dedupe({}, silent));
    expect(values.map((v) => (v.kind === 'failure' ? `${v.ref}:${v.error.code}` : v.ref))).toEqual([
      'x:CLOSED',
    ]);
  });

  it('gives every input exactly one outcome', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            content: fc.integer({ min: 0, max: 3 }),
            bad: fc.boolean(),
            delay: fc.integer({ min: 0, max: 3 }),
          }),
          {
            maxLength: 25,
          },
        ),
        async (specs) => {
          const inputs = specs.map((s, i) =>
            item(`${s.bad ? 'bad' : 'ok'}-${i}`, `h${s.content}`, { index: i }),
          );
          const inner = (items$: Observable<ItemOrFailure>) =>
            items$.pipe(
              mergeMap((v) =>
                v.kind !== 'image'
                  ? of(v)
                  : timer(specs[v.index!]!.delay).pipe(
                      map(() =>
                        v.ref.startsWith('bad')
                          ? toFailure(v, 'classify', new AthenaError('MODEL_ERROR', 'x'))
                          : answer(v),
                      ),
                    ),
              ),
            );
          const outcomes = await run(inputs, dedupe({}, inner));
          expect(outcomes.map((o) => o.index).sort((p, q) => p! - q!)).toEqual(inputs.map((_, i) => i));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('bounds the cache by entries, bytes and age', async () => {
    const entry = { correlationId: 'c', classifications: [{ label: 'L', weight: 1 }], labels: { L: 1 } };
    const byCount = createDedupeCache({ maxEntries: 2 });
    for (const key of ['1', '2', '3']) byCount.set(key, entry);
    expect([...byCount.keys()].sort()).toEqual(['2', '3']);
    const byBytes = createDedupeCache({ maxBytes: 300 });
    for (const key of ['1', '2', '3', '4', '5']) byBytes.set(key, entry);
    expect(byBytes.size).toBeLessThan(5);
    expect(byBytes.calculatedSize).toBeLessThanOrEqual(300);
    const byAge = createDedupeCache({ ttlMs: 20 });
    byAge.set('k', entry);
    expect(byAge.get('k')).toEqual(entry);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(byAge.get('k')).toBeUndefined();
  });

  it('validates its arguments when called', () => {
    const cache = createDedupeCache();
    expect(() => dedupe({ cache, maxEntries: 5 }, instant)).toThrow(TypeError);
    expect(() => dedupe({ cache: {} as never }, instant)).toThrow(TypeError);
    expect(() => dedupe({ maxEntries: 0 }, instant)).toThrow(RangeError);
    expect(() => dedupe({ ttlMs: -1 }, instant)).toThrow(RangeError);
    expect(() => dedupe({ scope: 5 as never }, instant)).toThrow(TypeError);
    expect(() => dedupe({ key: 'sha1' as never }, instant)).toThrow(TypeError);
    expect(() => dedupe({}, undefined as never)).toThrow(TypeError);
  });
});

describe('dedupe around classify, under a small window', () => {
  let server: AthenaServer;
  let client: AthenaClient;

  beforeAll(async () => {
    server = await startAthenaServer();
    client = new AthenaClient({ address: server.address, insecure: true, connectTimeoutMs: 2_000 });
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('classifies each content once, answers the repeats, and never stalls the source', async () => {
    const contents = [3, 7, 11].map((seed) =>
      new Uint8Array(MODEL_INPUT_BYTES).map((_, i) => (i * seed) & 0xff),
    );
    const buffers = Array.from({ length: 12 }, (_, i) => ({ name: `img-${i}`, data: contents[i % 3]! }));
    const outcomes = await lastValueFrom(
      fromBuffers(buffers, { window: 2 }).pipe(
        hashImage(),
        map((v): ItemOrFailure =>
          v.kind === 'image' ? { ...v, format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR } : v,
        ),
        dedupe({ scope: 'spec' }, (items$) =>
          items$.pipe(correlate(), classify(client, { deploymentId: 'dedupe-spec', affiliate: 'spec' })),
        ),
        toArray(),
      ),
    );
    expect(outcomes.map((o) => o.kind)).toEqual(Array(12).fill('classified'));
    const classified = outcomes as Classified[];
    expect(
      classified
        .filter((o) => o.cached !== true)
        .map((o) => o.ref)
        .sort(),
    ).toEqual(['img-0', 'img-1', 'img-2']);
    expect(classified.map((o) => o.index).sort((a, b) => a! - b!)).toEqual([...Array(12).keys()]);
    for (const o of classified) {
      const first = classified.find((c) => c.index === o.index! % 3)!;
      expect(o.labels).toEqual(first.labels);
    }
  });
});
