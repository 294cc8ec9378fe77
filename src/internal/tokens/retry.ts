/**
 * src/internal/tokens/ holds the token manager and the OAuth requests it runs; it imports rxjs,
 * src/errors.ts, src/internal/ helpers and the types of src/transport/contracts.ts only.
 *
 * This file: retrying token requests: transient failures (see `isTransientTokenError`) are tried again under a
 * {@link RetryPolicy} with capped, fully jittered backoff; a delta-seconds `Retry-After` is honoured as
 * the minimum wait. The attempt budget and all waits run on the injected scheduler.
 */
import { defer, retry, throwError, timer, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import { backoffDelay, shouldRetry, type RetryPolicy } from '../retry/policy.js';
import { retryAfterMs } from './answer.js';

export function retryTransient<T>(
  policy: RetryPolicy,
  scheduler: SchedulerLike,
  random: () => number = Math.random,
): MonoTypeOperatorFunction<T> {
  return (source) =>
    defer(() => {
      const startedAt = scheduler.now();
      return source.pipe(
        retry({
          delay: (error: unknown, retryCount: number) => {
            const elapsed = scheduler.now() - startedAt;
            if (!shouldRetry(policy, retryCount, error, elapsed)) return throwError(() => error);
            const wait = Math.max(backoffDelay(policy, retryCount, random), retryAfterMs(error) ?? 0);
            if (elapsed + wait > policy.budgetMs) return throwError(() => error);
            return timer(wait, scheduler);
          },
        }),
      );
    });
}
