import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../../src/errors.js';
import { nextDelay, retryPolicy } from '../../../src/internal/retry/policy.js';
import { retryOn } from '../../../src/internal/retry/retry-on.js';

const unavailable = new AthenaError('UNAVAILABLE', 'down');
const half = (): number => 0.5;

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('nextDelay', () => {
  const policy = retryPolicy({ maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1_000, budgetMs: 1_000 });

  it('gives the jittered backoff, raised to the least wait asked for', () => {
    expect(nextDelay(policy, { attempt: 1, error: unavailable, elapsedMs: 0, random: half })).toBe(50);
    expect(nextDelay(policy, { attempt: 2, error: unavailable, elapsedMs: 0, random: half })).toBe(100);
    const ask = { attempt: 1, error: unavailable, elapsedMs: 0, random: half, minDelayMs: 300 };
    expect(nextDelay(policy, ask)).toBe(300);
  });

  it('gives none past the attempts, for an error the policy refuses, or with the budget spent', () => {
    expect(nextDelay(policy, { attempt: 3, error: unavailable, elapsedMs: 0, random: half })).toBeUndefined();
    const denied = new AthenaError('PERMISSION_DENIED', 'no');
    expect(nextDelay(policy, { attempt: 1, error: denied, elapsedMs: 0, random: half })).toBeUndefined();
    expect(
      nextDelay(policy, { attempt: 1, error: unavailable, elapsedMs: 1_000, random: half }),
    ).toBeUndefined();
  });

  it('refuses a wait ending past the budget unless only the decision must fall within it', () => {
    const late = { attempt: 1, error: unavailable, elapsedMs: 960, random: half };
    expect(nextDelay(policy, late)).toBeUndefined();
    expect(nextDelay(policy, { ...late, waitWithinBudget: false })).toBe(50);
    expect(nextDelay(policy, { ...late, elapsedMs: 950 })).toBe(50);
  });
});

describe('retryOn', () => {
  it('subscribes again after each wait on the scheduler, then passes the last error on as it came', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-#', undefined, unavailable);
      const policy = retryPolicy({ maxAttempts: 3, initialDelayMs: 10 });
      // Fails at 3; waits 5 (0.5 x 10), again at 8, fails at 11; waits 10, again at 21, fails at 24.
      expectObservable(source.pipe(retryOn(policy, { scheduler: ts, random: half }))).toBe(
        '-a-------a------------a-#',
        { a: 'a' },
        unavailable,
      );
      expectSubscriptions(source.subscriptions).toBe(['^--!', '8ms ^--!', '21ms ^--!']);
    });
  });

  it('waits at least what minDelayMs asks for an error, and tells each retry', () => {
    const ts = testScheduler();
    const told: [number, number][] = [];
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('--#', undefined, unavailable);
      const policy = retryPolicy({ maxAttempts: 2, initialDelayMs: 10 });
      const retried = source.pipe(
        retryOn(policy, {
          scheduler: ts,
          random: half,
          minDelayMs: () => 30,
          onRetry: (attempt, delayMs) => told.push([attempt, delayMs]),
        }),
      );
      expectObservable(retried).toBe('34ms #', undefined, unavailable);
      expectSubscriptions(source.subscriptions).toBe(['^-!', '32ms ^-!']);
    });
    expect(told).toEqual([[2, 30]]);
  });

  it('gives no retry to an error the policy refuses', () => {
    const ts = testScheduler();
    const denied = new AthenaError('PERMISSION_DENIED', 'no');
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#', undefined, denied);
      expectObservable(source.pipe(retryOn(retryPolicy(), { scheduler: ts }))).toBe('-#', undefined, denied);
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
  });
});
