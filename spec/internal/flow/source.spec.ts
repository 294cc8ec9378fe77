import { delay, map, take, type Observable, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { imageItem, type ItemOrFailure } from '../../../src/model.js';
import { fromPulled, windowOption, type ReadEntry } from '../../../src/internal/flow/source.js';
import { releaseLeases } from '../../../src/operators/releaseLeases.js';

const item = (ref: string, index?: number): ItemOrFailure =>
  imageItem({ ref, data: new Uint8Array([1]), ...(index === undefined ? {} : { index }) });

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Refs of what passes, releasing each lease as it passes. */
const refs = (source: Observable<ItemOrFailure>): Observable<string> =>
  source.pipe(
    releaseLeases(),
    map((v) => v.ref),
  );

const describeValue = (v: ItemOrFailure): string =>
  v.kind === 'failure' ? `${v.ref}:${v.stage}:${v.error.code}` : v.ref;

const ticks = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe('fromPulled (marbles)', () => {
  it('completes at once on an empty iterable', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const read: ReadEntry<string> = (e) => cold('--x|', { x: item(e) });
      expectObservable(refs(fromPulled(() => [], read, { window: 2, concurrency: 2 }))).toBe('|');
    });
  });

  it('reads one entry and completes with it', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const read: ReadEntry<string> = (e) => cold('--x|', { x: item(e) });
      expectObservable(refs(fromPulled(() => ['a'], read, { window: 2, concurrency: 2 }))).toBe('--(a|)');
    });
  });

  it('reads many, window by window, as leases are released', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const read: ReadEntry<string> = (e) => cold('----x|', { x: item(e) });
      const source = fromPulled(() => ['a', 'b', 'c', 'd'], read, { window: 2, concurrency: 2 });
      expectObservable(refs(source)).toBe('----(ab)(cd|)');
    });
  });

  it('reads nothing more while no lease is released', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const read: ReadEntry<string> = (e) => cold('--x|', { x: item(e) });
      const source = fromPulled(() => ['a', 'b', 'c', 'd'], read, { window: 2, concurrency: 2 });
      // A stalled source never completes (its stall timer keeps it alive): the test leaves it.
      expectObservable(source.pipe(map((v) => v.ref)), '^------!').toBe('--(ab)-');
    });
  });

  it('reads the next entries only when leases come back late', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const read: ReadEntry<string> = (e) => cold('--x|', { x: item(e) });
      const source = fromPulled(() => ['a', 'b', 'c', 'd'], read, { window: 2, concurrency: 2 });
      // a and b are read at 0 and released at 7; c and d are read at 7, out at 9, released at 14.
      expectObservable(
        source.pipe(
          delay(5),
          releaseLeases(),
          map((v) => v.ref),
        ),
      ).toBe('-------(ab)---(cd|)');
    });
  });

  it('keeps source order whatever the read times', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const times: Record<string, string> = { a: '-----x|', b: '-x|', c: '--x|' };
      const read: ReadEntry<string> = (e) => cold(times[e]!, { x: item(e) });
      const source = fromPulled(() => ['a', 'b', 'c'], read, { window: 3, concurrency: 3 });
      expectObservable(refs(source)).toBe('-----(abc|)');
    });
  });

  it('reads at most `concurrency` entries at once', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const read: ReadEntry<string> = (e) => cold('--x|', { x: item(e) });
      const source = fromPulled(() => ['a', 'b', 'c'], read, { window: 8, concurrency: 1 });
      expectObservable(refs(source)).toBe('--a-b-(c|)');
    });
  });

  it('turns a failed read into a read failure and goes on', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const read: ReadEntry<string> = (e) => (e === 'b' ? cold('-#') : cold('--x|', { x: item(e) }));
      const source = fromPulled(() => ['a', 'b', 'c'], read, { window: 3, concurrency: 3 });
      expectObservable(source.pipe(releaseLeases(), map(describeValue))).toBe('--(abc|)', {
        a: 'a',
        b: 'b:read:READ_FAILED',
        c: 'c',
      });
    });
  });

  it('reports an error of the iterable after the reads already started', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      function* entries(): Generator<string> {
        yield 'a';
        throw new Error('walk broke');
      }
      const read: ReadEntry<string> = (e) => cold('--x|', { x: item(e) });
      const source = fromPulled(entries, read, { window: 3, concurrency: 3 });
      expectObservable(refs(source)).toBe('--(a#)', undefined, new Error('walk broke'));
    });
  });

  it('pulls a never-ending iterable only as far as the window, then stops it on unsubscribe', () => {
    let closed = false;
    function* endless(): Generator<string> {
      try {
        for (let i = 0; ; i += 1) yield `e${i}`;
      } finally {
        closed = true;
      }
    }
    testScheduler().run(({ cold, expectObservable }) => {
      const read: ReadEntry<string> = (e) => cold('-----x|', { x: item(e) });
      const source = fromPulled(endless, read, { window: 3, concurrency: 3 });
      expectObservable(source.pipe(map((v) => v.ref)), '^-------!').toBe('-----(abc)', {
        a: 'e0',
        b: 'e1',
        c: 'e2',
      });
      expectObservable(refs(source).pipe(take(5))).toBe('-----(abc)(de|)', {
        a: 'e0',
        b: 'e1',
        c: 'e2',
        d: 'e3',
        e: 'e4',
      });
    });
    expect(closed).toBe(true);
  });

  it('cancels the reads in flight on early unsubscribe', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const reads = {
        a: cold<ItemOrFailure>('-----x|', { x: item('a') }),
        b: cold<ItemOrFailure>('-----x|', { x: item('b') }),
      };
      const read: ReadEntry<'a' | 'b'> = (e) => reads[e];
      const source = fromPulled<'a' | 'b'>(() => ['a', 'b'], read, { window: 2, concurrency: 2 });
      expectObservable(refs(source), '^--!').toBe('---');
      expectSubscriptions(reads.a.subscriptions).toBe('^--!');
      expectSubscriptions(reads.b.subscriptions).toBe('^--!');
    });
  });
});

describe('fromPulled (async)', () => {
  /** An async iterable counting the entries pulled from it, with a finally to see it closed. */
  function counting(total: number) {
    const state = { pulled: 0, closed: false };
    async function* entries(): AsyncGenerator<string> {
      try {
        for (let i = 0; i < total; i += 1) {
          await Promise.resolve();
          state.pulled += 1;
          yield `e${i}`;
        }
      } finally {
        state.closed = true;
      }
    }
    return { state, entries };
  }

  it('reads no more than `window` entries ahead of released leases; one release reads exactly one more', async () => {
    const { state, entries } = counting(100);
    const seen: ItemOrFailure[] = [];
    const subscription = fromPulled(entries, async (e, i) => item(e, i), {
      window: 4,
      concurrency: 2,
    }).subscribe((v) => seen.push(v));
    await ticks();
    expect(state.pulled).toBe(4);
    expect(seen.map((v) => v.ref)).toEqual(['e0', 'e1', 'e2', 'e3']);

    seen[0]!.lease!.release();
    await ticks();
    expect(state.pulled).toBe(5);
    expect(seen).toHaveLength(5);

    seen[0]!.lease!.release(); // a second release of the same lease gives nothing back
    await ticks();
    expect(state.pulled).toBe(5);

    seen[1]!.lease!.release();
    seen[2]!.lease!.release();
    await ticks();
    expect(state.pulled).toBe(7);
    expect(seen.map((v) => v.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);

    subscription.unsubscribe();
    await ticks();
    expect(state.closed).toBe(true);
  });

  it('keeps the number of unreleased items within the window under random releases', async () => {
    const { entries } = counting(200);
    const window = 5;
    let read = 0;
    let released = 0;
    let worst = 0;
    const held: ItemOrFailure[] = [];
    let random = 7;
    const next = (): number => (random = (random * 48271) % 2147483647) / 2147483647;
    await new Promise<void>((resolve, reject) => {
      fromPulled(
        entries,
        async (e, i) => {
          read += 1;
          worst = Math.max(worst, read - released);
          await new Promise<void>((r) => setImmediate(r));
          return item(e, i);
        },
        { window, concurrency: 3 },
      ).subscribe({
        next: (v) => {
          held.push(v);
          while (held.length > 0 && (next() < 0.4 || held.length === window)) {
            const [oldest] = held.splice(Math.floor(next() * held.length), 1);
            setImmediate(() => {
              released += 1;
              oldest!.lease!.release();
            });
          }
        },
        error: reject,
        complete: resolve,
      });
    });
    expect(read).toBe(200);
    expect(worst).toBeLessThanOrEqual(window);
    expect(worst).toBe(window);
  });

  it('aborts a read in flight and closes the iterator on unsubscribe', async () => {
    const { state, entries } = counting(10);
    let aborted = false;
    const subscription: Subscription = fromPulled(
      entries,
      (e, i, signal) =>
        new Promise<ItemOrFailure>((resolve) => {
          if (i === 0) resolve(item(e, i));
          signal.addEventListener('abort', () => (aborted = true));
        }),
      { window: 4, concurrency: 2 },
    ).subscribe(() => subscription.unsubscribe());
    await ticks();
    subscription.unsubscribe();
    await ticks();
    expect(aborted).toBe(true);
    expect(state.closed).toBe(true);
    expect(state.pulled).toBeLessThanOrEqual(2);
  });
});

describe('windowOption', () => {
  it('defaults to 32 and validates', () => {
    expect(windowOption(undefined)).toBe(32);
    expect(windowOption(1)).toBe(1);
    expect(() => windowOption(0)).toThrow(RangeError);
    expect(() => windowOption(2.5)).toThrow(TypeError);
    expect(() => windowOption('8')).toThrow(TypeError);
  });
});
