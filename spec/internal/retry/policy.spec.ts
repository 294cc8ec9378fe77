import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../../src/errors.js';
import { backoffDelay, isRetryable, retryPolicy, shouldRetry } from '../../../src/internal/retry/policy.js';

describe('retryPolicy', () => {
  it('fills in defaults and keeps what is given', () => {
    const policy = retryPolicy({ maxAttempts: 3 });
    expect(policy.maxAttempts).toBe(3);
    expect(policy.multiplier).toBe(2);
  });

  it.each([
    [{ maxAttempts: 0 }, RangeError],
    [{ maxAttempts: 1.5 }, TypeError],
    [{ initialDelayMs: 500, maxDelayMs: 100 }, RangeError],
    [{ multiplier: 0.5 }, RangeError],
    [{ budgetMs: -1 }, RangeError],
  ])('rejects %o', (partial, type) => {
    expect(() => retryPolicy(partial)).toThrow(type);
  });
});

describe('backoffDelay', () => {
  const policy = retryPolicy({ initialDelayMs: 100, maxDelayMs: 1000, multiplier: 3 });

  it('grows the bound per retry and caps it', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 0.999999))).toEqual([99, 299, 899, 999]);
  });

  it('applies full jitter', () => {
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(450);
  });
});

describe('retry decisions', () => {
  it('retries transient and retryable output errors, never permanent ones', () => {
    expect(isRetryable(new AthenaError('MODEL_ERROR', 'x'))).toBe(true);
    expect(isRetryable(new AthenaError('UNSPECIFIED', 'x'))).toBe(true);
    expect(isRetryable(new AthenaError('UNAVAILABLE', 'x'))).toBe(true);
    expect(isRetryable(new AthenaError('IMAGE_TOO_LARGE', 'x'))).toBe(false);
    expect(isRetryable(new AthenaError('AFFILIATE_NOT_PERMITTED', 'x'))).toBe(false);
    expect(isRetryable(new AthenaError('PERMISSION_DENIED', 'x'))).toBe(false);
  });

  it('stops at maxAttempts and at the budget', () => {
    const policy = retryPolicy({ maxAttempts: 3, budgetMs: 1000 });
    const error = new AthenaError('UNAVAILABLE', 'x');
    expect(shouldRetry(policy, 2, error, 0)).toBe(true);
    expect(shouldRetry(policy, 3, error, 0)).toBe(false);
    expect(shouldRetry(policy, 1, error, 1000)).toBe(false);
  });
});
