import { AthenaError } from '../../errors.js';
import { assertFunction, assertInteger, assertNumber } from '../core/validate.js';

/** When and how often to try again. One validated shape used by every retry in athena-rx. */
export interface RetryPolicy {
  /** Attempts in all, the first included (>= 1; 1 means never retry). */
  readonly maxAttempts: number;
  /** Upper bound of the first delay in milliseconds. */
  readonly initialDelayMs: number;
  /** Upper bound of any delay in milliseconds (>= initialDelayMs). */
  readonly maxDelayMs: number;
  /** Growth of the bound per attempt (>= 1). */
  readonly multiplier: number;
  /** Time budget over all attempts in milliseconds; no retry starts past it. */
  readonly budgetMs: number;
  /** Which errors are worth another attempt. */
  readonly retryable: (error: AthenaError) => boolean;
}

const TRANSIENT_STATUS = new Set(['UNAVAILABLE', 'INTERNAL', 'RESOURCE_EXHAUSTED', 'ABORTED', 'UNKNOWN']);

/**
 * The default predicate: transient transport statuses, and the output errors PROTOCOL.md calls
 * retryable (`MODEL_ERROR`, `UNSPECIFIED`); never `IMAGE_TOO_LARGE` or `AFFILIATE_NOT_PERMITTED`.
 */
export function isRetryable(error: AthenaError): boolean {
  if (error.code === 'MODEL_ERROR' || error.code === 'UNSPECIFIED') return true;
  if (error.code === 'DEADLINE_EXCEEDED' || error.code === 'TIMEOUT') return true;
  return TRANSIENT_STATUS.has(error.code);
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 200,
  maxDelayMs: 10_000,
  multiplier: 2,
  budgetMs: 120_000,
  retryable: isRetryable,
};

/** Validates a partial policy and fills in the defaults. Throws TypeError/RangeError at once. */
export function retryPolicy(partial: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...partial };
  assertInteger('maxAttempts', policy.maxAttempts, 1);
  assertNumber('initialDelayMs', policy.initialDelayMs, 0);
  assertNumber('maxDelayMs', policy.maxDelayMs, 0);
  if (policy.initialDelayMs > policy.maxDelayMs) {
    throw new RangeError(
      `initialDelayMs (${policy.initialDelayMs}) must not exceed maxDelayMs (${policy.maxDelayMs})`,
    );
  }
  assertNumber('multiplier', policy.multiplier, 1);
  assertNumber('budgetMs', policy.budgetMs, 0);
  assertFunction('retryable', policy.retryable);
  return policy;
}

/**
 * Delay before retry number `retry` (1 for the first retry), with full jitter: uniform in
 * [0, min(maxDelayMs, initialDelayMs * multiplier^(retry-1))].
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const bound = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.multiplier ** Math.max(0, retry - 1),
  );
  return Math.floor(random() * bound);
}

/** Whether another attempt may start: attempts left, retryable error, and within the time budget. */
export function shouldRetry(
  policy: RetryPolicy,
  attempt: number,
  error: unknown,
  elapsedMs: number,
): boolean {
  return (
    attempt < policy.maxAttempts && elapsedMs < policy.budgetMs && policy.retryable(AthenaError.from(error))
  );
}
