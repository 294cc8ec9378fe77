import type { AthenaError, AthenaErrorCode } from '../../errors.js';
import { nextDelay, type RetryPolicy } from '../retry/policy.js';

/** Output errors no retry policy can make worth another attempt. */
const NEVER_RETRIED = new Set<AthenaErrorCode>([
  'IMAGE_TOO_LARGE',
  'AFFILIATE_NOT_PERMITTED',
  'DEPLOYMENT_ID_INVALID',
  'CORRELATION_ID_INVALID',
]);

/**
 * The wait before sending an item again after `error` on attempt number `attempt` (the first is 1),
 * `elapsedMs` after its first send; undefined when it should fail now: no policy, an error no policy
 * retries (`IMAGE_TOO_LARGE`, `AFFILIATE_NOT_PERMITTED`, invalid ids), or attempts or budget spent.
 */
export function itemRetryDelay(
  policy: RetryPolicy | undefined,
  attempt: number,
  error: AthenaError,
  elapsedMs: number,
  random: () => number,
): number | undefined {
  if (policy === undefined || NEVER_RETRIED.has(error.code)) return undefined;
  return nextDelay(policy, { attempt, error, elapsedMs, random, waitWithinBudget: false });
}
