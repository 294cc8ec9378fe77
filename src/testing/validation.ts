import { ErrorCode } from '../generated/athena/models.js';

/** Why one input failed: what goes into its `ClassificationOutput.error`. */
export interface InputProblem {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: string;
}

/** Longest deployment or correlation id the service accepts (PROTOCOL.md: 63 is the safe limit). */
export const MAX_ID_LENGTH = 64;

/** Prefix of every image problem message, as the service words it. */
export const IMAGE_ERROR_PREFIX = 'Image Classification Error';

/**
 * The documented refusal of an affiliate, word for word.
 *
 * @param affiliate - The affiliate id as sent.
 */
export function affiliateNotPermittedMessage(affiliate: string): string {
  return `Affiliate ID '${affiliate}' is not permitted for this client or does not have Athena enabled.`;
}

/** `DEPLOYMENT_ID_INVALID` (5) when the id is empty or longer than 64 characters. */
export function checkDeploymentId(id: string): InputProblem | undefined {
  return checkId(id, 'deployment_id', ErrorCode.ERROR_CODE_DEPLOYMENT_ID_INVALID);
}

/** `CORRELATION_ID_INVALID` (6) when the id is empty or longer than 64 characters. */
export function checkCorrelationId(id: string): InputProblem | undefined {
  return checkId(id, 'correlation_id', ErrorCode.ERROR_CODE_CORRELATION_ID_INVALID);
}

/**
 * `AFFILIATE_NOT_PERMITTED` (4) when the affiliate is empty or, given an allow-list, not on it.
 *
 * @param affiliate - The input's affiliate.
 * @param allowed - Permitted affiliates; `undefined` permits every non-empty one.
 */
export function checkAffiliate(
  affiliate: string,
  allowed: ReadonlySet<string> | undefined,
): InputProblem | undefined {
  if (affiliate.length > 0 && (allowed === undefined || allowed.has(affiliate))) return undefined;
  return {
    code: ErrorCode.ERROR_CODE_AFFILIATE_NOT_PERMITTED,
    message: affiliateNotPermittedMessage(affiliate),
  };
}

/**
 * An image problem: the message starts with `Image Classification Error: `.
 *
 * @param code - `UNSPECIFIED` for bytes that cannot be read, `IMAGE_TOO_LARGE` for wrong sizes.
 * @param reason - What was wrong, without secrets.
 */
export function imageProblem(code: ErrorCode, reason: string, details?: string): InputProblem {
  return details === undefined
    ? { code, message: `${IMAGE_ERROR_PREFIX}: ${reason}` }
    : { code, message: `${IMAGE_ERROR_PREFIX}: ${reason}`, details };
}

function checkId(id: string, field: string, code: ErrorCode): InputProblem | undefined {
  if (id.length > 0 && id.length <= MAX_ID_LENGTH) return undefined;
  return {
    code,
    message:
      id.length === 0
        ? `The ${field} must not be empty.`
        : `The ${field} must be at most ${MAX_ID_LENGTH} characters, got ${id.length}.`,
  };
}
