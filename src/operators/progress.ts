import { Observable, timer, type MonoTypeOperatorFunction } from 'rxjs';
import { type ProgressSnapshot } from '../internal/progress/snapshot.js';
import { createProgressState } from '../internal/progress/state.js';
import { type ProgressOptions, validateProgressOptions } from '../internal/progress/tracker.js';
import { assertFunction } from '../internal/core/validate.js';

export type { ProgressSnapshot, ProgressStatus } from '../internal/progress/snapshot.js';
export { createProgress, type ProgressOptions, type ProgressTracker } from '../internal/progress/tracker.js';

/**
 * The operator form: passes outcomes through unchanged and hands `report` a {@link ProgressSnapshot}
 * at subscription, every `intervalMs`, and once more when the stream completes or errors. It sees
 * only outcomes, so `submitted` stays 0; use {@link createProgress} for the full figures. State and
 * timer are per subscription.
 *
 * ```text
 * intervalMs 2: reports at 0, 2, 4 and at the end (6)
 * source:  -c-f-c|
 * output:  -c-f-c|
 * ```
 *
 * @example
 * ```ts
 * import { progress } from 'athena-rx/operators';
 *
 * outcomes$.pipe(progress((s) => bar.update(s.completed), { total: files.length, intervalMs: 250 }));
 * ```
 */
export function progress<T>(
  report: (snapshot: ProgressSnapshot) => void,
  options: ProgressOptions = {},
): MonoTypeOperatorFunction<T> {
  assertFunction('report', report);
  const { intervalMs, windowMs, scheduler, total } = validateProgressOptions(options);
  return (source) =>
    new Observable<T>((subscriber) => {
      const state = createProgressState(() => scheduler.now(), windowMs, total);
      state.start();
      const tell = (): void => {
        try {
          report(state.snapshot());
        } catch (error) {
          subscriber.error(error);
        }
      };
      const ticks = timer(0, intervalMs, scheduler).subscribe(tell);
      const finish = (status: 'complete' | 'error'): void => {
        ticks.unsubscribe();
        if (state.finish(status)) tell();
      };
      const subscription = source.subscribe({
        next: (value) => {
          state.countOutcome(value);
          subscriber.next(value);
        },
        error: (error: unknown) => {
          finish('error');
          subscriber.error(error);
        },
        complete: () => {
          finish('complete');
          subscriber.complete();
        },
      });
      return () => {
        ticks.unsubscribe();
        subscription.unsubscribe();
      };
    });
}
