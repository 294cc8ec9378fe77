import {
  Subject,
  asyncScheduler,
  defer,
  map,
  merge,
  of,
  takeUntil,
  tap,
  timer,
  type MonoTypeOperatorFunction,
  type Observable,
  type Observer,
  type SchedulerLike,
} from 'rxjs';
import { type ClassifyEvent } from '../../transport/contracts.js';
import { type ProgressSnapshot } from './snapshot.js';
import { createProgressState } from './state.js';
import { assertFunction, assertInteger, assertNumber } from '../core/validate.js';

export interface ProgressOptions {
  /** The expected number of inputs, for `fraction` and `etaMs`. */
  readonly total?: number;
  /** Time between snapshots. Default 1000 ms. */
  readonly intervalMs?: number;
  /** Width of the sliding window the rate is measured over. Default 10 000 ms. */
  readonly windowMs?: number;
  /** Where timers run and time is read. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Live figures for one run of a pipeline, gathered from where the pipeline already is. Prints nothing. */
export interface ProgressTracker {
  /** Counts what passes as submitted inputs (a batch counts its images). Put it at the pipeline's start. */
  countInputs<T>(): MonoTypeOperatorFunction<T>;
  /** Counts outcomes; the run ends when this stream completes, errors or is unsubscribed. */
  countOutcomes<T>(): MonoTypeOperatorFunction<T>;
  /** Pass as `classify(client, { events: tracker.events })` for sent, re-sent, reconnect, ... figures. */
  readonly events: Observer<ClassifyEvent>;
  /** A snapshot at once, then every `intervalMs`, and a last one when the run ends, then completion. */
  readonly snapshots$: Observable<ProgressSnapshot>;
  /** The figures now. */
  snapshot(): ProgressSnapshot;
  /** Sets or changes the expected number of inputs (when it is known only later). */
  setTotal(total: number | undefined): void;
  /** Ends the run by hand, for pipelines without `countOutcomes`. */
  complete(): void;
}

/**
 * A progress tracker: submitted, in flight, classified, failed by stage and code, foreign outputs,
 * re-sent, retries, reconnects, keepalives, bytes sent, rate over a sliding window, elapsed time and,
 * with a total, fraction and ETA. All state belongs to the tracker (one tracker per run); the
 * timers of `snapshots$` are per subscription and stop on unsubscribe.
 *
 * ```text
 * intervalMs 2
 * outcomes:    -c-f-c|
 * snapshots$:  s-s-s-(s|)    s = figures at that time; the last has status 'complete'
 * ```
 *
 * @example
 * ```ts
 * import { batch, classify, createProgress } from 'athena-rx/operators';
 *
 * const tracker = createProgress({ total: 1000 });
 * tracker.snapshots$.subscribe((s) => bar.update(s.completed, { rate: s.ratePerSecond }));
 * const outcomes$ = images$.pipe(
 *   tracker.countInputs(),
 *   batch(),
 *   classify(client, { deploymentId, events: tracker.events }),
 *   tracker.countOutcomes(),
 * );
 * ```
 */
export function createProgress(options: ProgressOptions = {}): ProgressTracker {
  const { intervalMs, windowMs, scheduler, total } = validateProgressOptions(options);
  const state = createProgressState(() => scheduler.now(), windowMs, total);
  const ended$ = new Subject<void>();
  const end = (status: 'complete' | 'error' | 'cancelled'): void => {
    if (!state.finish(status)) return;
    ended$.next();
    ended$.complete();
  };
  return {
    countInputs: () => (source) =>
      defer(() => {
        state.start();
        return source.pipe(tap((value) => state.countInputs(imagesIn(value))));
      }),
    countOutcomes: () => (source) =>
      defer(() => {
        state.start();
        return source.pipe(
          tap({
            next: (value) => state.countOutcome(value),
            complete: () => end('complete'),
            error: () => end('error'),
            finalize: () => end('cancelled'),
          }),
        );
      }),
    events: { next: (event) => state.countEvent(event), error: () => undefined, complete: () => undefined },
    snapshots$: defer(() =>
      state.ended
        ? of(state.snapshot())
        : merge(timer(0, intervalMs, scheduler).pipe(takeUntil(ended$)), ended$).pipe(
            map(() => state.snapshot()),
          ),
    ),
    snapshot: () => state.snapshot(),
    setTotal: (value) => state.setTotal(value === undefined ? undefined : assertInteger('total', value, 0)),
    complete: () => end('complete'),
  };
}

export function validateProgressOptions(options: ProgressOptions) {
  const scheduler = options.scheduler ?? asyncScheduler;
  assertFunction('scheduler.schedule', scheduler?.schedule);
  assertFunction('scheduler.now', scheduler?.now);
  return {
    scheduler,
    intervalMs: assertNumber('intervalMs', options.intervalMs ?? 1000, 1, 2 ** 31 - 1),
    windowMs: assertNumber('windowMs', options.windowMs ?? 10_000, 1),
    total: options.total === undefined ? undefined : assertInteger('total', options.total, 0),
  };
}

function imagesIn(value: unknown): number {
  const items = (value as { kind?: unknown; items?: unknown } | null)?.items;
  return (value as { kind?: unknown } | null)?.kind === 'batch' && Array.isArray(items) ? items.length : 1;
}
