/**
 * A scheduler on Node timers that never keep the process alive (`unref()`), for work that waits
 * in the background of a program, such as a token's refresh: code that takes an injected scheduler
 * uses this one by default where a pending timer must not hold the process open.
 */
import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

/**
 * `Date.now` and one-shot `setTimeout`s, `unref()`ed where the platform has it. An action that
 * schedules itself again (`this.schedule(...)`) is run again after the new delay.
 */
export const unrefScheduler: SchedulerLike = {
  now: () => Date.now(),
  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    const subscription = new Subscription();
    let current = state;
    let again = false;
    const action = Object.assign(subscription, {
      schedule(next?: T, nextDelay = 0): Subscription {
        current = next;
        again = true;
        arm(nextDelay);
        return subscription;
      },
    }) as SchedulerAction<T>;
    let handle: ReturnType<typeof setTimeout> | undefined;
    function arm(ms: number): void {
      if (handle !== undefined) clearTimeout(handle);
      handle = setTimeout(() => {
        handle = undefined;
        again = false;
        work.call(action, current);
        if (!again && !subscription.closed) subscription.unsubscribe();
      }, ms);
      (handle as { unref?: () => void }).unref?.();
    }
    subscription.add(() => {
      if (handle !== undefined) clearTimeout(handle);
    });
    arm(delay);
    return subscription;
  },
};
