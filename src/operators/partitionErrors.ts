import {
  Subject,
  asapScheduler,
  filter,
  share,
  subscribeOn,
  type Observable,
  type SchedulerLike,
} from 'rxjs';
import { type Classified, type ItemFailure, type Outcome } from '../model.js';
import { assertFunction } from '../internal/core/validate.js';

export interface PartitionErrorsOptions {
  /**
   * When the shared subscription to the source starts after the first side subscribes. Default
   * `asapScheduler` (a microtask), so both sides subscribed in the same synchronous block see every
   * value even from a source that emits synchronously.
   */
  readonly scheduler?: SchedulerLike;
}

/**
 * Splits outcomes into successes and failures that share ONE subscription to `outcomes$`.
 *
 * - The source is subscribed once, shortly after the first side subscribes (see `scheduler`), and
 *   unsubscribed when both sides have unsubscribed; subscribing again after that starts a new run.
 * - A side subscribed late only sees values emitted from then on; while one side is unsubscribed
 *   its values are dropped, never buffered (so memory stays bounded).
 * - Completion and errors reach both sides. The pair is one run: a side subscribed after the run
 *   ended gets the same completion or error at once, without running the source again.
 *
 * ```text
 * outcomes$:    --c--f--c--|
 * classified$:  --c-----c--|
 * failed$:      -----f-----|
 * ```
 *
 * @example
 * ```ts
 * import { partitionErrors } from 'athena-rx/operators';
 *
 * const [classified$, failed$] = partitionErrors(outcomes$);
 * failed$.subscribe((f) => report(f.ref, f.stage, f.error.code));
 * classified$.subscribe((c) => store(c.ref, c.labels));
 * ```
 * @param outcomes$ the outcomes to split
 * @param options.scheduler default `asapScheduler`
 * @returns `[classified$, failed$]`
 */
export function partitionErrors(
  outcomes$: Observable<Outcome>,
  options: PartitionErrorsOptions = {},
): [classified$: Observable<Classified>, failed$: Observable<ItemFailure>] {
  if (typeof outcomes$?.subscribe !== 'function') {
    throw new TypeError('partitionErrors needs an Observable of outcomes');
  }
  const scheduler = options.scheduler ?? asapScheduler;
  assertFunction('scheduler.schedule', scheduler?.schedule);
  const shared = outcomes$.pipe(
    subscribeOn(scheduler),
    share<Outcome>({
      // A Subject replays its completion or error to late subscribers: the run is not started again.
      connector: () => new Subject<Outcome>(),
      resetOnError: false,
      resetOnComplete: false,
      resetOnRefCountZero: true,
    }),
  );
  return [
    shared.pipe(filter((outcome): outcome is Classified => outcome.kind === 'classified')),
    shared.pipe(filter((outcome): outcome is ItemFailure => outcome.kind === 'failure')),
  ];
}
