import { asyncScheduler, mergeMap, of, from, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { toFailure, type ImageItem, type ItemFailure, type Classified, type Outcome } from '../model.js';
import type { ClassifySingleClient } from '../transport/contracts.js';
import { retryPolicy, type RetryPolicy } from '../internal/retry/policy.js';
import { checkItem } from '../internal/classify/request.js';
import type { ClassifyInput } from '../internal/classify/state.js';
import { classifySingleItem, releaseAfterEmit } from '../internal/classify/single.js';
import { MAX_TIMER_MS } from '../internal/core/limits.js';
import { assertFunction, assertInteger, assertNumber, assertString } from '../internal/core/validate.js';

/** Options of `classifyEach`. */
export interface ClassifyEachOptions {
  /** Affiliate sent with every input (required, non-empty). */
  readonly affiliate: string;
  /** Calls in flight at once (default 8). */
  readonly concurrency?: number;
  /** Deadline of each call in milliseconds (default 120 s). */
  readonly deadlineMs?: number;
  /** Call again after a retryable failure (`MODEL_ERROR`, `UNSPECIFIED`, `UNAVAILABLE`, ...) under this policy (default: never). */
  readonly retry?: Partial<RetryPolicy>;
  /** Source of time for the backoff (default `asyncScheduler`). */
  readonly scheduler?: SchedulerLike;
  /** Source of backoff jitter in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
}

/**
 * Classifies each image with its own unary `ClassifySingle` call, at most `concurrency` at once: no
 * deployment and no stream, for a few images or where a bidi stream is not wanted. Every input image
 * becomes exactly one {@link Outcome}, as with `classify`; batches are taken apart, failures and
 * classified values pass through. Outcomes come as calls finish, and each lease is released right
 * after its outcome is emitted. An image with a `trace` gets its call recorded as `athena.image.wait`
 * and its trace ended with its outcome.
 *
 * ```text
 * each call answers after 2 ms; the call for b fails UNAVAILABLE (no retry); F a failure
 * source:  --a--b--F--c--|
 * output:  ----a--bF----c|     b a `transport` failure; F passes
 * ```
 *
 * An item without a correlation id, with one longer than 63 characters, or with bytes but no format
 * fails at stage `validate` and is not sent. An output with `error` fails at stage `classify`; a
 * failed call at stage `transport` (`timeout` for `DEADLINE_EXCEEDED`). With `retry`, retryable
 * failures are tried again after the policy's backoff (never `IMAGE_TOO_LARGE` or
 * `AFFILIATE_NOT_PERMITTED`). On `UNAUTHENTICATED`, `AthenaClient` refreshes its token and calls
 * once more by itself.
 *
 * @example
 * ```ts
 * import { classifyEach, correlate } from 'athena-rx/operators';
 *
 * const outcomes$ = images$.pipe(correlate(), classifyEach(client, { affiliate: 'my-affiliate', concurrency: 4 }));
 * ```
 *
 * @param client - the unary side of `AthenaClient` (or any `ClassifySingleClient`).
 * @param options - `affiliate` (required); `concurrency` (8), `deadlineMs` (120 000), `retry` (none),
 *   `scheduler` (`asyncScheduler`), `random` (`Math.random`).
 * @throws TypeError or RangeError when an option is invalid.
 */
export function classifyEach(
  client: ClassifySingleClient,
  options: ClassifyEachOptions,
): OperatorFunction<ClassifyInput, Outcome> {
  if (typeof client?.classifySingle !== 'function') {
    throw new TypeError('classifyEach needs a client with classifySingle(), such as AthenaClient');
  }
  if (typeof options !== 'object' || options === null)
    throw new TypeError('classifyEach options are required');
  const concurrency = assertInteger('concurrency', options.concurrency ?? 8, 1);
  const call = {
    affiliate: assertString('affiliate', options.affiliate),
    deadlineMs: assertNumber('deadlineMs', options.deadlineMs ?? 120_000, 1, MAX_TIMER_MS),
    retry: options.retry === undefined ? undefined : retryPolicy(options.retry),
    scheduler: options.scheduler ?? asyncScheduler,
    random: assertFunction<() => number>('random', options.random ?? Math.random),
  };

  return (source) =>
    source.pipe(
      mergeMap((value) => (value.kind === 'batch' ? from(value.items) : of(value))),
      mergeMap((value: ImageItem | ItemFailure | Classified) => {
        if (value.kind !== 'image') return of(value);
        const problem = checkItem(value);
        if (problem !== undefined) return of(toFailure(value, 'validate', problem));
        return classifySingleItem(client, value, call);
      }, concurrency),
      releaseAfterEmit,
    );
}
