/**
 * The delays of the embedded service (latency faults): one scheduled action per delay, all woken at
 * once when the service is disposed. Replaces a listener per delay on one shared AbortSignal, which
 * crossed EventTarget's listener limit (MaxListenersExceededWarning) under latency with > 10 calls.
 */
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';

/** Pending delays that can all be cut short. */
export interface Sleeper {
  /** Resolves after `ms` on the scheduler, or at once after {@link Sleeper.wakeAll}. Never rejects. */
  sleep(ms: number): Promise<void>;
  /** Resolves every pending delay now; later delays resolve at once. */
  wakeAll(): void;
}

/**
 * Creates a sleeper.
 *
 * @param scheduler - Where delays are scheduled (default `asyncScheduler`).
 */
export function createSleeper(scheduler: SchedulerLike = asyncScheduler): Sleeper {
  const pending = new Map<Subscription, () => void>();
  let woken = false;
  return {
    sleep: (ms) =>
      woken
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const action = scheduler.schedule(() => {
              pending.delete(action);
              resolve();
            }, ms);
            if (!action.closed) pending.set(action, resolve);
          }),
    wakeAll: () => {
      woken = true;
      for (const [action, resolve] of [...pending]) {
        action.unsubscribe();
        resolve();
      }
      pending.clear();
    },
  };
}
