import type { SchedulerLike } from 'rxjs';
import type { AthenaError } from '../errors.js';
import { backoffDelay, shouldRetry, type RetryPolicy } from './backoff.js';

/** The next connection attempt after a break: its number in the current streak and the wait before it. */
export interface ReconnectPlan {
  readonly attempt: number;
  readonly delayMs: number;
}

/**
 * Reconnect decisions for one `classify` subscription. A streak of breaks starts at the first break
 * after a healthy stream (one that delivered a response) and is bounded by the policy's attempts and
 * time budget, with capped jittered backoff between attempts. `UNAUTHENTICATED` is tried again once per
 * streak at once (the client refreshes its token on that status); any status the policy does not call
 * retryable (`PERMISSION_DENIED`, `INVALID_ARGUMENT`, ...) is fatal.
 */
export function createReconnector(policy: RetryPolicy, scheduler: SchedulerLike, random: () => number) {
  let attempt = 0;
  let since: number | undefined;
  let authRetried = false;

  return {
    /** A response arrived: the stream works, the next break starts a new streak. */
    healthy(): void {
      attempt = 0;
      since = undefined;
      authRetried = false;
    },
    /** Whether this status ends the run whatever the budget. */
    fatal(error: AthenaError): boolean {
      if (error.code === 'UNAUTHENTICATED') return authRetried;
      return !policy.retryable(error);
    },
    /** The plan for the next attempt, or undefined when the error is fatal or the budget is spent. */
    next(error: AthenaError): ReconnectPlan | undefined {
      const now = scheduler.now();
      since ??= now;
      attempt += 1;
      if (error.code === 'UNAUTHENTICATED') {
        if (authRetried) return undefined;
        authRetried = true;
        return { attempt, delayMs: 0 };
      }
      if (!shouldRetry(policy, attempt, error, now - since)) return undefined;
      return { attempt, delayMs: backoffDelay(policy, attempt, random) };
    },
  };
}

export type Reconnector = ReturnType<typeof createReconnector>;
