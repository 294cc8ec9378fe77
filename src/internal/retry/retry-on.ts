/**
 * {@link retryOn}: the retry operator every Observable-shaped retry in athena-rx runs on (the
 * `retryBackoff` operator, token requests, `fromUrls` downloads), deciding with {@link nextDelay}
 * and waiting on the injected scheduler, so each of them is marble-testable.
 */
import {
  defer,
  retry,
  tap,
  throwError,
  timer,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import { nextDelay, type RetryPolicy } from './policy.js';

export interface RetryOnOptions {
  /** Where the waits run and time is read. */
  readonly scheduler: SchedulerLike;
  /** Uniform [0, 1) source for the jitter. Default `Math.random`. */
  readonly random?: () => number;
  /** The least wait after an error (a server's `Retry-After`); default none. */
  readonly minDelayMs?: (error: unknown) => number | undefined;
  /** Count attempts and the budget again from each value. Default false. */
  readonly resetOnValue?: boolean;
  /** Whether a wait must end within the budget (see `RetryAsk` in `policy.ts`). Default true. */
  readonly waitWithinBudget?: boolean;
  /** Told before each wait: the attempt about to start (2 for the first retry), the wait, the error. */
  readonly onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

/**
 * Subscribes to the source again after an error `policy` retries, after the wait {@link nextDelay}
 * gives, on `options.scheduler`; the budget runs from subscribe. When it gives up, the last error
 * is passed on as it came.
 */
export function retryOn<T>(policy: RetryPolicy, options: RetryOnOptions): MonoTypeOperatorFunction<T> {
  const {
    scheduler,
    random = Math.random,
    minDelayMs,
    resetOnValue = false,
    onRetry,
    waitWithinBudget,
  } = options;
  return (source) =>
    defer(() => {
      let attempt = 1;
      let start = scheduler.now();
      return source.pipe(
        tap(() => {
          if (!resetOnValue) return;
          attempt = 1;
          start = scheduler.now();
        }),
        retry({
          delay: (error: unknown) => {
            const elapsedMs = scheduler.now() - start;
            const extra = minDelayMs?.(error) ?? 0;
            const ask = { attempt, error, elapsedMs, random, minDelayMs: extra, waitWithinBudget };
            const delayMs = nextDelay(policy, ask);
            if (delayMs === undefined) return throwError(() => error);
            attempt += 1;
            onRetry?.(attempt, delayMs, error);
            return timer(delayMs, scheduler);
          },
        }),
      );
    });
}
