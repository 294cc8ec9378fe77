import { Observable, type Subscription } from 'rxjs';

/** Runs `work` once `weight` fits the budget; see {@link pixelBudget}. */
export type BudgetGate = <T>(weight: number, work: () => Observable<T>) => Observable<T>;

/**
 * A weighted gate, first come first served: a piece of work starts when its weight fits under
 * `limit` together with the work running, or at once when nothing runs (so work heavier than the
 * whole budget still runs, alone). Its weight is given back when the work completes, fails or is
 * unsubscribed; unsubscribing while it waits takes it out of the queue. Keep one per subscription.
 */
export function pixelBudget(limit: number): BudgetGate {
  let used = 0;
  let running = 0;
  const queue: { readonly weight: number; readonly start: () => void }[] = [];

  const pump = (): void => {
    while (queue.length > 0) {
      const head = queue[0]!;
      if (running > 0 && used + head.weight > limit) return;
      queue.shift();
      used += head.weight;
      running += 1;
      head.start();
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
      const entry = {
        weight,
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
