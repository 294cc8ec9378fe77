/**
 * The one retry mechanism of athena-rx: the validated {@link RetryPolicy}, and {@link nextDelay}, the
 * decision every retry takes from it (whether to try again, and after how long). `retry-on.ts`
 * wraps it as an operator on an injected scheduler; the classify session takes it as a step.
 */
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

/** One retry decision: what failed, when, and what the place that retries adds to the policy. */
export interface RetryAsk {
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  readonly error: unknown;
  /** Milliseconds from the start of the budget to now. */
  readonly elapsedMs: number;
  /** Uniform [0, 1) source for the jitter. Default `Math.random`. */
  readonly random?: () => number;
  /** The least wait, such as a server's `Retry-After`. Default 0. */
  readonly minDelayMs?: number;
  /**
   * Whether the wait must end within the budget too (a retry that would start past `budgetMs` is not
   * taken) or only the decision be taken within it. Default true.
   */
  readonly waitWithinBudget?: boolean;
}

/**
 * The wait in milliseconds before the next attempt, or undefined when there is none: attempts spent,
 * an error `retryable` refuses, the budget spent, or (with `waitWithinBudget`) a wait that would end
 * past the budget. The wait is {@link backoffDelay}, raised to `minDelayMs`.
 */
export function nextDelay(policy: RetryPolicy, ask: RetryAsk): number | undefined {
  const { attempt, error, elapsedMs, random = Math.random, minDelayMs = 0, waitWithinBudget = true } = ask;
  if (!shouldRetry(policy, attempt, error, elapsedMs)) return undefined;
  const delayMs = Math.max(backoffDelay(policy, attempt, random), minDelayMs);
  if (waitWithinBudget && elapsedMs + delayMs > policy.budgetMs) return undefined;
  return delayMs;
}
