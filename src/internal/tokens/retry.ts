/**
 * src/internal/tokens/ holds the token manager and the OAuth requests it runs; it imports rxjs,
 * src/errors.ts, src/internal/ helpers and the types of src/transport/contracts.ts only.
 *
 * This file: retrying token requests: transient failures (see `isTransientTokenError`) are tried again under a
 * {@link RetryPolicy} with capped, fully jittered backoff; a delta-seconds `Retry-After` is honoured as
 * the minimum wait. The attempt budget and all waits run on the injected scheduler.
 */
import { type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import { type RetryPolicy } from '../retry/policy.js';
import { retryOn } from '../retry/retry-on.js';
import { retryAfterMs } from './answer.js';

export function retryTransient<T>(
  policy: RetryPolicy,
  scheduler: SchedulerLike,
  random: () => number = Math.random,
): MonoTypeOperatorFunction<T> {
  return retryOn<T>(policy, { scheduler, random, minDelayMs: retryAfterMs });
}
