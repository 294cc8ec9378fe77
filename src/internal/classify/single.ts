import {
  Observable,
  catchError,
  defaultIfEmpty,
  defer,
  map,
  mergeMap,
  of,
  take,
  timer,
  type SchedulerLike,
} from 'rxjs';
import { AthenaError } from '../../errors.js';
import { toFailure, type ImageItem, type Outcome } from '../../model.js';
import { outputToOutcome } from '../../outputs.js';
import type { ClassifySingleClient } from '../../transport/contracts.js';
import type { RetryPolicy } from '../retry/policy.js';
import { toClassificationInput } from './request.js';
import { itemRetryDelay } from './retry.js';

export interface SingleCallOptions {
  readonly affiliate: string;
  readonly deadlineMs: number;
  readonly retry: RetryPolicy | undefined;
  readonly scheduler: SchedulerLike;
  readonly random: () => number;
}

/**
 * One item through `ClassifySingle`, as exactly one outcome: the output as an outcome, or the failed
 * call as a failure (stage `timeout` for `DEADLINE_EXCEEDED`, `transport` otherwise). Failures the
 * retry policy allows are tried again after its backoff. (`UNAUTHENTICATED` is the client's: it
 * refreshes its token and calls once more itself.)
 */
export function classifySingleItem(
  client: ClassifySingleClient,
  item: ImageItem,
  options: SingleCallOptions,
): Observable<Outcome> {
  const input = toClassificationInput(item, options.affiliate);
  const { scheduler } = options;
  const start = scheduler.now();
  item.trace?.waiting(item.correlationId);

  const attempt = (n: number): Observable<Outcome> =>
    defer(() => client.classifySingle(input, { deadlineMs: options.deadlineMs })).pipe(
      take(1),
      map((output) => outputToOutcome(output, item)),
      defaultIfEmpty(
        toFailure(
          item,
          'transport',
          new AthenaError('UNKNOWN', `${item.ref}: ClassifySingle gave no output`),
        ),
      ),
      catchError((error: unknown) => of(callFailure(item, AthenaError.from(error)))),
      mergeMap((outcome) => {
        if (outcome.ok) return of(outcome);
        const delay = itemRetryDelay(
          options.retry,
          n,
          outcome.error,
          scheduler.now() - start,
          options.random,
        );
        if (delay === undefined) return of(outcome);
        return timer(delay, scheduler).pipe(mergeMap(() => attempt(n + 1)));
      }),
    );

  return attempt(1);
}

function callFailure(item: ImageItem, error: AthenaError): Outcome {
  return toFailure(item, error.code === 'DEADLINE_EXCEEDED' ? 'timeout' : 'transport', error);
}

/**
 * Emits each outcome, then ends its trace and releases its lease: the source's window advances as
 * outcomes leave.
 */
export function releaseAfterEmit(source: Observable<Outcome>): Observable<Outcome> {
  return new Observable<Outcome>((subscriber) =>
    source.subscribe({
      next: (outcome) => {
        subscriber.next(outcome);
        outcome.trace?.end(outcome);
        outcome.lease?.release();
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    }),
  );
}
