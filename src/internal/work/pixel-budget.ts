import { Observable, type Subscription } from 'rxjs';

/** Runs `work` once `weight` fits the budget; see {@link pixelBudget}. */
export type BudgetGate = <T>(weight: number, work: () => Observable<T>) => Observable<T>;

/**
 * How many times work waiting for room may be overtaken by lighter work that fits: enough for the
 * small images of a window to keep the other cores busy while a large one waits, few enough that
 * the large one is never starved.
 */
export const MAX_OVERTAKES = 32;

interface Waiting {
  readonly weight: number;
  readonly start: () => void;
  /** Times lighter work started ahead of this entry. */
  overtaken: number;
}

/**
 * A weighted gate: a piece of work starts when its weight fits under `limit` together with the
 * work running, or at once when nothing runs (so work heavier than the whole budget still runs,
 * alone). Work waits in arrival order, except that lighter work that fits may start ahead of
 * heavier work waiting for room, up to {@link MAX_OVERTAKES} times per waiting piece; after that
 * nothing passes it. Its weight is given back when the work completes, fails or is unsubscribed;
 * unsubscribing while it waits takes it out of the queue. Keep one per subscription.
 */
export function pixelBudget(limit: number): BudgetGate {
  let used = 0;
  let running = 0;
  const queue: Waiting[] = [];

  const fits = (entry: Waiting): boolean => running === 0 || used + entry.weight <= limit;
  /** The first waiting entry that may start now, or -1. */
  const next = (): number => {
    for (let i = 0; i < queue.length; i++) {
      const entry = queue[i]!;
      if (fits(entry)) return i;
      if (entry.overtaken >= MAX_OVERTAKES) return -1;
    }
    return -1;
  };
  const pump = (): void => {
    for (let i = next(); i >= 0; i = next()) {
      const [entry] = queue.splice(i, 1);
      for (let j = 0; j < i; j++) queue[j]!.overtaken += 1;
      used += entry!.weight;
      running += 1;
      entry!.start();
    }
  };

  return <T>(weight: number, work: () => Observable<T>): Observable<T> =>
    new Observable<T>((subscriber) => {
      let state: 'waiting' | 'running' | 'done' = 'waiting';
      let inner: Subscription | undefined;
      const release = (): void => {
        if (state !== 'running') return;
        state = 'done';
        used -= weight;
        running -= 1;
        pump();
      };
      const entry: Waiting = {
        weight,
        overtaken: 0,
        start: (): void => {
          state = 'running';
          inner = work().subscribe({
            next: (value) => subscriber.next(value),
            error: (error: unknown) => {
              release();
              subscriber.error(error);
            },
            complete: () => {
              release();
              subscriber.complete();
            },
          });
        },
      };
      queue.push(entry);
      pump();
      return () => {
        if (state === 'waiting') {
          queue.splice(queue.indexOf(entry), 1);
          state = 'done';
          pump();
          return;
        }
        inner?.unsubscribe();
        release();
      };
    });
}
