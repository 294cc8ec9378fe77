import {
  asyncScheduler,
  catchError,
  throwError,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import { AthenaError } from '../errors.js';
import { retryPolicy, type RetryPolicy } from '../internal/retry/policy.js';
import { retryOn } from '../internal/retry/retry-on.js';
import { assertFunction } from '../internal/core/validate.js';

export {
  DEFAULT_RETRY_POLICY,
  isRetryable,
  retryPolicy,
  type RetryPolicy,
} from '../internal/retry/policy.js';

/** What {@link RetryBackoffOptions.onRetry} is told before each wait. */
export interface RetryInfo {
  /** The attempt about to start, 2 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: AthenaError;
}

export interface RetryBackoffOptions extends Partial<RetryPolicy> {
  /** Where the waits run and time is read. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Uniform [0, 1) source for the jitter. Default `Math.random`. */
  readonly random?: () => number;
  /** Start counting attempts and the budget again after each value (for long-lived streams). Default false. */
  readonly resetOnValue?: boolean;
  /** Called before each wait, for diagnostics. */
  readonly onRetry?: (info: RetryInfo) => void;
}

/**
 * Subscribes to the source again when it errors, following a validated {@link RetryPolicy}: at most
 * `maxAttempts` subscriptions in all, a wait before each retry drawn with full jitter from
 * [0, min(maxDelayMs, initialDelayMs * multiplier^(retry-1))), only for errors `retryable` accepts,
 * and no retry starting after `budgetMs` from the first subscription. When it gives up, the last
 * error is passed on as an {@link AthenaError}. Values already emitted are not taken back: use it
 * where a source's values are safe to see again or the source resumes where it stopped.
 *
 * ```text
 * maxAttempts 3, random () => 0.5, initialDelayMs 10: waits 5 then 10; the source is cold
 * source:  -a-#
 * output:  -a-------a------------a-#     subscribed at 0, 8 and 21
 * ```
 *
 * @example
 * ```ts
 * import { retryBackoff } from 'athena-rx/operators';
 *
 * client.listDeployments().pipe(retryBackoff({ maxAttempts: 4, initialDelayMs: 500 }));
 * ```
 * @param options policy fields (defaults: 5 attempts, 200 ms initial, 10 s max, x2, 120 s budget,
 *   {@link isRetryable}), plus `scheduler`, `random`, `resetOnValue`, `onRetry`
 */
export function retryBackoff<T>(options: RetryBackoffOptions = {}): MonoTypeOperatorFunction<T> {
  const {
    scheduler = asyncScheduler,
    random = Math.random,
    resetOnValue = false,
    onRetry,
    ...partial
  } = options;
  const policy = retryPolicy(partial);
  assertFunction('scheduler.schedule', scheduler?.schedule);
  assertFunction('scheduler.now', scheduler?.now);
  assertFunction('random', random);
  if (onRetry !== undefined) assertFunction('onRetry', onRetry);

  return (source) =>
    source.pipe(
      catchError((error: unknown) => throwError(() => AthenaError.from(error))),
      retryOn<T>(policy, {
        scheduler,
        random,
        resetOnValue,
        onRetry:
          onRetry &&
          ((attempt, delayMs, error) => onRetry({ attempt, delayMs, error: error as AthenaError })),
      }),
    );
}
