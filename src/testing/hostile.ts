/**
 * Faults of a hostile or broken server, as pure functions of the fault settings and the call's
 * metadata: statuses that echo the request metadata (authorization included) or carry huge details,
 * and output errors that leak the authorization value or carry a huge message.
 */
import { status as Status, type Metadata } from '@grpc/grpc-js';
import { ErrorCode } from '../generated/athena/models.js';
import { type AthenaFaults } from './faults.js';
import { type InputProblem } from './validation.js';

/** A status to end a call with. */
export interface EndStatus {
  readonly code: number;
  readonly details: string;
}

/** Every text entry of `metadata` as `key=value` pairs joined by `; ` (binary `-bin` entries left out). */
export function metadataText(metadata: Metadata): string {
  const pairs: string[] = [];
  for (const [key, values] of Object.entries(metadata.getMap())) {
    if (key.endsWith('-bin')) continue;
    pairs.push(`${key}=${String(values)}`);
  }
  return pairs.join('; ');
}

/** `n` bytes of ASCII details: a readable head padded with `x`. */
export function hugeText(n: number, head: string): string {
  return head.length >= n ? head.slice(0, n) : head + 'x'.repeat(n - head.length);
}

/**
 * The status a call ends with under `echoMetadata` or `statusDetailsBytes` (echo wins), or
 * `undefined` when neither is set.
 */
export function hostileStatus(faults: AthenaFaults, metadata: Metadata): EndStatus | undefined {
  const code = faults.statusCode ?? Status.INTERNAL;
  if (faults.echoMetadata === true) {
    return { code, details: `Request rejected; request metadata: ${metadataText(metadata)}` };
  }
  const n = faults.statusDetailsBytes;
  if (n !== undefined) return { code, details: hugeText(n, `Injected ${n}-byte status details: `) };
  return undefined;
}

/**
 * The output error every otherwise valid input gets under `leakAuthorization` or
 * `outputErrorBytes` (both may apply: the leaked value then starts the huge message), or `undefined`.
 */
export function hostileOutputError(faults: AthenaFaults, metadata: Metadata): InputProblem | undefined {
  const leak = faults.leakAuthorization === true;
  const n = faults.outputErrorBytes;
  if (!leak && n === undefined) return undefined;
  const authorization = String(metadata.get('authorization')[0] ?? '');
  const head = leak ? `Model error for authorization ${authorization}` : 'Injected model error';
  return {
    code: faults.errorCode ?? ErrorCode.ERROR_CODE_MODEL_ERROR,
    message: n === undefined ? head : hugeText(n, `${head}; ${n}-byte message: `),
    ...(leak ? { details: `authorization: ${authorization}` } : {}),
  };
}
