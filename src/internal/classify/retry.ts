import type { AthenaError, AthenaErrorCode } from '../../errors.js';
import { backoffDelay, shouldRetry, type RetryPolicy } from '../retry/policy.js';

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
  if (!shouldRetry(policy, attempt, error, elapsedMs)) return undefined;
  return backoffDelay(policy, attempt, random);
}
