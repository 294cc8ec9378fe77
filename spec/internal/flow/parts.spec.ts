import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { createCredits } from '../../../src/internal/flow/credits.js';
import { inOrder } from '../../../src/internal/flow/in-order.js';
import { createPuller } from '../../../src/internal/flow/pull.js';

describe('createCredits', () => {
  it('hands out `window` credits, turns one into a lease, and takes each lease back once', () => {
    let released = 0;
    const credits = createCredits(2, undefined, () => (released += 1));
    expect([credits.take(), credits.take(), credits.take()]).toEqual([true, true, false]);
    const lease = credits.lease();
    expect([credits.free, credits.held]).toEqual([0, 1]);
    lease.release();
    lease.release();
    expect([credits.free, credits.held, released]).toEqual([1, 0, 1]);
    credits.giveBack();
    expect(credits.free).toBe(2);
  });
});

describe('inOrder', () => {
  it('emits values in source order, each once those before it were', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
      ({ cold, expectObservable }) => {
        const placed = cold('-c-a--b----|', {
          a: { index: 0, value: 'a' },
          b: { index: 1, value: 'b' },
          c: { index: 2, value: 'c' },
        });
        expectObservable(placed.pipe(inOrder())).toBe('---a--(bc)-|');
      },
    );
  });
});

describe('createPuller', () => {
  it('pulls one entry per claim granted, and closes the iterator when stopped early', () => {
    let grants = 2;
    let returned = false;
    function* entries(): Generator<string> {
      try {
        yield* ['a', 'b', 'c'];
      } finally {
        returned = true;
      }
    }
    const seen: string[] = [];
    const puller = createPuller(entries(), {
      claim: () => grants-- > 0,
      entry: (entry, index) => seen.push(`${index}:${entry}`),
      end: () => seen.push('end'),
    });
    puller.pump();
    expect(seen).toEqual(['0:a', '1:b']);
    grants = 1;
    puller.pump();
    expect([seen, puller.pulled, puller.exhausted]).toEqual([['0:a', '1:b', '2:c'], 3, false]);
    puller.close();
    expect(returned).toBe(true);
  });

  it('reports the end, or the error the iterable throws, once', () => {
    const ends: unknown[] = [];
    const broken = {
      [Symbol.iterator]: () => ({
        next: () => {
          throw new Error('walk broke');
        },
      }),
    };
    createPuller(broken, { claim: () => true, entry: () => undefined, end: (e) => ends.push(e) }).pump();
    createPuller([], { claim: () => true, entry: () => undefined, end: (e) => ends.push(e) }).pump();
    expect(ends).toEqual([{ error: new Error('walk broke') }, undefined]);
  });

  it('pulls an asynchronous iterable one next() at a time', async () => {
    async function* entries(): AsyncGenerator<number> {
      yield* [1, 2, 3];
    }
    const seen: number[] = [];
    let done = false;
    const puller = createPuller(entries(), {
      claim: () => true,
      entry: (entry) => seen.push(entry),
      end: () => (done = true),
    });
    puller.pump();
    for (let i = 0; i < 50 && !done; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect([seen, done]).toEqual([[1, 2, 3], true]);
  });
});
