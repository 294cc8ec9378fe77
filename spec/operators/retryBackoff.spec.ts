import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import {
  DEFAULT_RETRY_POLICY,
  isRetryable,
  retryBackoff,
  retryPolicy,
  type RetryInfo,
} from '../../src/operators/retryBackoff.js';

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const unavailable = new AthenaError('UNAVAILABLE', 'connection refused', { status: 14 });
const tooLarge = new AthenaError('IMAGE_TOO_LARGE', 'image too large', { serviceCode: 2 });
const half = (): number => 0.5;

describe('retryBackoff', () => {
  it('completes on an empty source', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('|').pipe(retryBackoff())).toBe('|');
    });
  });

  it('passes one and many values through untouched', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const one = cold('-a|');
      const many = cold('a-b-c|');
      expectObservable(one.pipe(retryBackoff({ scheduler: ts }))).toBe('-a|');
      expectObservable(many.pipe(retryBackoff({ scheduler: ts }))).toBe('a-b-c|');
      expectSubscriptions(many.subscriptions).toBe('^----!');
    });
  });

  it('waits with jittered, growing delays in virtual time, then passes the last error on', () => {
    const ts = testScheduler();
    const retries: RetryInfo[] = [];
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-#', undefined, unavailable);
      const policy = { maxAttempts: 3, initialDelayMs: 10, multiplier: 2, maxDelayMs: 100 };
      const options = {
        ...policy,
        scheduler: ts,
        random: half,
        onRetry: (info: RetryInfo) => retries.push(info),
      };
      // waits floor(0.5 * 10) = 5, then floor(0.5 * 20) = 10
      expectObservable(source.pipe(retryBackoff(options))).toBe(
        '-a-------a------------a-#',
        undefined,
        unavailable,
      );
      expectSubscriptions(source.subscriptions).toBe(['^--!', '8ms ^--!', '21ms ^--!']);
    });
    expect(retries).toEqual([
      { attempt: 2, delayMs: 5, error: unavailable },
      { attempt: 3, delayMs: 10, error: unavailable },
    ]);
  });

  it('caps delays at maxDelayMs and follows the random source', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectSubscriptions }) => {
      const source = cold('#', undefined, unavailable);
      const options = { maxAttempts: 4, initialDelayMs: 4, maxDelayMs: 6, multiplier: 3, scheduler: ts };
      source.pipe(retryBackoff({ ...options, random: () => 0.999 })).subscribe({ error: () => undefined });
      // bounds 4, 6 (12 capped), 6 (36 capped): waits 3, 5, 5
      expectSubscriptions(source.subscriptions).toBe(['(^!)', '3ms (^!)', '8ms (^!)', '13ms (^!)']);
    });
  });

  it('stops at once on an error the policy does not retry', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a#', undefined, tooLarge);
      expectObservable(source.pipe(retryBackoff({ scheduler: ts, random: half }))).toBe(
        'a#',
        undefined,
        tooLarge,
      );
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
  });

  it('starts no retry past the budget', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('---#', undefined, unavailable);
      const options = {
        maxAttempts: 10,
        initialDelayMs: 4,
        multiplier: 1,
        budgetMs: 12,
        scheduler: ts,
        random: half,
      };
      // attempt 1 fails at 3, retry at 5 fails at 8, a retry at 10 fails at 13: past the budget.
      expectObservable(source.pipe(retryBackoff(options))).toBe('13ms #', undefined, unavailable);
      expectSubscriptions(source.subscriptions).toBe(['^--!', '5ms ^--!', '10ms ^--!']);
    });
  });

  it('does not start a retry whose wait would end past the budget', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#', undefined, unavailable);
      const options = {
        maxAttempts: 10,
        initialDelayMs: 100,
        maxDelayMs: 100,
        budgetMs: 50,
        scheduler: ts,
        random: half,
      };
      expectObservable(source.pipe(retryBackoff(options))).toBe('-#', undefined, unavailable);
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
  });

  it('passes the last error on as an AthenaError', () => {
    const ts = testScheduler();
    const plain = new Error('socket hang up');
    ts.run(({ cold, expectObservable }) => {
      const source = cold('#', undefined, plain);
      const result = source.pipe(retryBackoff({ maxAttempts: 2, scheduler: ts, random: () => 0 }));
      expectObservable(result).toBe(
        '#',
        undefined,
        new AthenaError('UNKNOWN', 'socket hang up', { cause: plain }),
      );
    });
  });

  it('starts counting again after a value when resetOnValue is set', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-#', undefined, unavailable);
      const options = { maxAttempts: 2, scheduler: ts, random: () => 0, resetOnValue: true };
      const reset = source.pipe(retryBackoff(options));
      // every attempt yields a value, so the 2 attempts never run out
      expectObservable(reset, '^-------!').toBe('-a--a--a');
      expectSubscriptions(source.subscriptions).toBe(['^--!', '---^--!', '------^-!']);
    });
  });

  it('starts the time budget again after a value when resetOnValue is set', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-#', undefined, unavailable);
      // Each attempt fails 3 ms after it started, so 5 ms of budget from the first subscription
      // would allow only one retry; counted from each value, it never runs out.
      const options = { maxAttempts: 100, budgetMs: 5, scheduler: ts, random: () => 0, resetOnValue: true };
      expectObservable(source.pipe(retryBackoff(options)), '^ 11ms !').toBe('-a--a--a--a-');
      expectSubscriptions(source.subscriptions).toBe(['^--!', '---^--!', '------^--!', '---------^--!']);
    });
  });

  it('keeps the budget from the first subscription without resetOnValue', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('-a-#', undefined, unavailable);
      const options = { maxAttempts: 100, budgetMs: 5, scheduler: ts, random: () => 0 };
      expectObservable(source.pipe(retryBackoff(options))).toBe('-a--a-#', undefined, unavailable);
    });
  });

  it('follows a source that never ends', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('-a--b-').pipe(retryBackoff({ scheduler: ts }))).toBe('-a--b-');
    });
  });

  it('cancels a pending retry on early unsubscribe', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a#', undefined, unavailable);
      const options = { initialDelayMs: 10, scheduler: ts, random: half };
      expectObservable(source.pipe(retryBackoff(options)), '^---!').toBe('a---');
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
  });

  it('keeps attempts per subscription', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const retried = cold('#', undefined, unavailable).pipe(
        retryBackoff({ maxAttempts: 2, initialDelayMs: 2, scheduler: ts, random: half }),
      );
      expectObservable(retried).toBe('-#', undefined, unavailable);
      expectObservable(retried).toBe('-#', undefined, unavailable);
    });
  });

  it.each([
    [{ maxAttempts: 0 }, RangeError],
    [{ initialDelayMs: 50, maxDelayMs: 10 }, RangeError],
    [{ multiplier: 0.5 }, RangeError],
    [{ retryable: 'yes' as never }, TypeError],
    [{ random: 0.5 as never }, TypeError],
    [{ scheduler: {} as never }, TypeError],
    [{ onRetry: 1 as never }, TypeError],
  ])('rejects %o at factory time', (options, type) => {
    expect(() => retryBackoff(options)).toThrow(type);
  });

  it('re-exports the policy helpers', () => {
    expect(retryPolicy({ maxAttempts: 2 }).maxAttempts).toBe(2);
    expect(DEFAULT_RETRY_POLICY.retryable).toBe(isRetryable);
    expect(isRetryable(tooLarge)).toBe(false);
  });
});
