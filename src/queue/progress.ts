/**
 * The pure side of the queue: refs cut into numbered chunks, and a run's accounting (done, failed,
 * pending, workers alive, dead letters) as a pure step over what is read from Redis, with the
 * Observable forms that `enqueue` and `results` are built on. Nothing here touches Redis.
 */
import { bufferCount, map, type Observable, type OperatorFunction, scan, takeWhile } from 'rxjs';
import type { AthenaError } from '../errors.js';
import { assertBoolean, assertInteger } from '../internal/core/validate.js';
import type { Outcome } from '../model.js';

/** Refs that go to one job. */
export interface RefChunk {
  /** The chunk's number in its run, from 0. */
  readonly index: number;
  readonly refs: readonly string[];
}

/**
 * Cuts refs into chunks of `size` (the last may be shorter), numbered from 0 in order.
 *
 * ```text
 * source:       -a-b-c-d-e|     chunkRefs(2)
 * result:       ---x---y--(z|)  x = 0:[a,b], y = 1:[c,d], z = 2:[e]
 * ```
 */
export function chunkRefs(size: number): OperatorFunction<string, RefChunk> {
  assertInteger('size', size, 1, 100_000);
  return (refs) =>
    refs.pipe(
      bufferCount(size),
      map((chunk, index) => ({ index, refs: chunk })),
    );
}

/** How far a run is. `pending` is unknown until the run's total is. */
export interface RunProgress {
  /** Refs the run holds, once its enqueue finished. */
  readonly total: number | undefined;
  /** Refs classified. */
  readonly done: number;
  /** Refs failed (dead letters' refs included). */
  readonly failed: number;
  readonly pending: number | undefined;
  /** Workers connected to the run's queue, as last counted. */
  readonly workersAlive: number;
  /** Chunks that failed for good. */
  readonly deadLetters: number;
  /** Every ref has its outcome. */
  readonly complete: boolean;
}

/** What `results` reads from Redis, in order. */
export type RunSignal =
  | { readonly kind: 'total'; readonly total: number }
  | { readonly kind: 'outcome'; readonly outcome: Outcome }
  | { readonly kind: 'dead-letter'; readonly chunk: number; readonly error: AthenaError }
  | { readonly kind: 'workers'; readonly count: number }
  /** The stream was read to its end (`results` without `follow` stops there). */
  | { readonly kind: 'caught-up' };

/** What `results` emits: each outcome and dead letter with the progress after it, or progress alone. */
export type RunEvent =
  | { readonly kind: 'outcome'; readonly outcome: Outcome; readonly progress: RunProgress }
  | {
      readonly kind: 'dead-letter';
      readonly chunk: number;
      readonly error: AthenaError;
      readonly progress: RunProgress;
    }
  | { readonly kind: 'progress'; readonly progress: RunProgress };

/** Progress before anything was read. */
export const NO_PROGRESS: RunProgress = {
  total: undefined,
  done: 0,
  failed: 0,
  pending: undefined,
  workersAlive: 0,
  deadLetters: 0,
  complete: false,
};

/** The progress after one signal (pure). */
export function progressStep(p: RunProgress, signal: RunSignal): RunProgress {
  let { total, done, failed, workersAlive, deadLetters } = p;
  if (signal.kind === 'total') total = signal.total;
  else if (signal.kind === 'outcome') {
    if (signal.outcome.ok) done += 1;
    else failed += 1;
  } else if (signal.kind === 'dead-letter') deadLetters += 1;
  else if (signal.kind === 'workers') workersAlive = signal.count;
  const pending = total === undefined ? undefined : Math.max(0, total - done - failed);
  return { total, done, failed, pending, workersAlive, deadLetters, complete: pending === 0 };
}

/**
 * Turns signals into events, completing after the event that makes the run complete, or, without
 * `follow`, at `caught-up`. State is per subscription.
 *
 * ```text
 * source:  -t--o--w--o--o|     t total 3, w workers 2, o outcomes
 * result:  -p--o--p--o--(o|)   the third outcome completes the run
 * ```
 */
export function accountRun(follow: boolean): OperatorFunction<RunSignal, RunEvent> {
  assertBoolean('follow', follow);
  return (signals: Observable<RunSignal>) =>
    signals.pipe(
      scan(
        (acc: { progress: RunProgress; signal: RunSignal | undefined }, signal: RunSignal) => ({
          progress: progressStep(acc.progress, signal),
          signal,
        }),
        { progress: NO_PROGRESS, signal: undefined },
      ),
      takeWhile(
        ({ progress, signal }) => !progress.complete && (follow || signal?.kind !== 'caught-up'),
        true,
      ),
      map(({ progress, signal }): RunEvent => {
        if (signal?.kind === 'outcome') return { kind: 'outcome', outcome: signal.outcome, progress };
        if (signal?.kind === 'dead-letter') {
          return { kind: 'dead-letter', chunk: signal.chunk, error: signal.error, progress };
        }
        return { kind: 'progress', progress };
      }),
    );
}
