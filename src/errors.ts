/**
 * The one error family of athena-rx. Every error the library produces, per item or for a whole run,
 * is an {@link AthenaError} with a machine-readable {@link AthenaErrorCode}.
 *
 * Messages never carry secrets: client secrets, tokens and URL query strings are redacted before an
 * error is built (see {@link redactUrl}), and text a peer sent (a status's details, a service error's
 * message) is scrubbed of every secret the library holds and cut to about 1 KB.
 */
import { scrubText } from './internal/secrets/scrub.js';

/** gRPC status names, numbered as gRPC numbers them (`status` carries the number). */
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

export type GrpcStatusName = (typeof GRPC_STATUS_NAMES)[number];

/** Error codes the service puts in a `ClassificationError`, without their `ERROR_CODE_` prefix. */
export type ServiceErrorCode =
  | 'UNSPECIFIED'
  | 'IMAGE_TOO_LARGE'
  | 'MODEL_ERROR'
  | 'AFFILIATE_NOT_PERMITTED'
  | 'DEPLOYMENT_ID_INVALID'
  | 'CORRELATION_ID_INVALID';

/** Errors raised on the client side, before or after the wire. */
export type ClientErrorCode =
  | 'READ_FAILED'
  | 'EMPTY_INPUT'
  | 'FILE_TOO_LARGE'
  | 'UNSUPPORTED_FORMAT'
  | 'DECODE_FAILED'
  | 'IMAGE_TOO_MANY_PIXELS'
  | 'COMPRESS_FAILED'
  | 'INVALID_INPUT'
  | 'INVALID_ID'
  | 'DUPLICATE_ID'
  | 'TIMEOUT'
  | 'STALLED'
  | 'GLOBAL_ERROR'
  | 'OAUTH_ERROR'
  | 'INSECURE_TRANSPORT'
  | 'CLOSED'
  | 'HTTP_ERROR'
  | 'ADDRESS_IN_USE'
  | 'WRITE_FAILED'
  | 'OUTPUT_EXISTS'
  | 'JOURNAL_INVALID'
  | 'TLS_MISMATCH'
  | 'CERTIFICATE_INVALID'
  | 'DNS_FAILED'
  | 'NO_INPUT'
  | 'REDIS_ERROR'
  | 'CHUNK_FAILED';

export type AthenaErrorCode = GrpcStatusName | ServiceErrorCode | ClientErrorCode;

export interface AthenaErrorOptions {
  /** What caused this error, if anything. */
  readonly cause?: unknown;
  /** gRPC status number, for transport errors. */
  readonly status?: number;
  /** Extra, non-secret context (the server's `details`, an HTTP status, ...). */
  readonly details?: string;
  /** The numeric service error code (`ErrorCode`), when the error came from a `ClassificationError`. */
  readonly serviceCode?: number;
}

/** The library's one error type. Check `code`, never the message. */
export class AthenaError extends Error {
  override readonly name: string = 'AthenaError';
  readonly code: AthenaErrorCode;
  readonly status: number | undefined;
  readonly details: string | undefined;
  readonly serviceCode: number | undefined;

  constructor(code: AthenaErrorCode, message: string, options: AthenaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.details = options.details;
    this.serviceCode = options.serviceCode;
  }

  /**
   * Wraps anything thrown into an `AthenaError`, keeping an `AthenaError` as it is. A grpc-js error
   * becomes its status name, with the server's details (scrubbed of secrets, cut to about 1 KB) as
   * message and `details`; it is not kept as `cause`, since its message and metadata carry the same
   * text unscrubbed.
   */
  static from(error: unknown, fallback: AthenaErrorCode = 'UNKNOWN'): AthenaError {
    if (error instanceof AthenaError) return error;
    if (isGrpcError(error)) {
      const name = GRPC_STATUS_NAMES[error.code] ?? 'UNKNOWN';
      const details = scrubText(error.details || error.message);
      return new AthenaError(name === 'OK' ? 'UNKNOWN' : name, details, { status: error.code, details });
    }
    if (error instanceof Error) return new AthenaError(fallback, error.message, { cause: error });
    return new AthenaError(fallback, String(error), { cause: error });
  }
}

/** An OAuth 2 token endpoint refused or failed a grant. Carries the server's `error` fields, never the secret. */
export class OAuthError extends AthenaError {
  override readonly name: string = 'OAuthError';
  /** The `error` field of the token endpoint's answer (`invalid_client`, `invalid_target`, ...). */
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  /** HTTP status of the token endpoint's answer; undefined for network failures. */
  readonly httpStatus: number | undefined;

  constructor(
    message: string,
    fields: { error?: string; errorDescription?: string; httpStatus?: number; cause?: unknown } = {},
  ) {
    super('OAUTH_ERROR', message, { cause: fields.cause, details: fields.error });
    this.error = fields.error;
    this.errorDescription = fields.errorDescription;
    this.httpStatus = fields.httpStatus;
  }
}

interface GrpcLikeError {
  code: number;
  details: string;
  message: string;
}

function isGrpcError(error: unknown): error is GrpcLikeError {
  return (
    error instanceof Error &&
    typeof (error as Partial<GrpcLikeError>).code === 'number' &&
    typeof (error as Partial<GrpcLikeError>).details === 'string'
  );
}

/** The gRPC status name for a status number. */
export function grpcStatusName(status: number): GrpcStatusName | 'UNKNOWN' {
  return GRPC_STATUS_NAMES[status] ?? 'UNKNOWN';
}

/** `text` with every URL in it redacted as `redactUrl` does (for messages that come from elsewhere). */
export function redactUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>()]+/gi, (url) => redactUrl(url));
}

/** A URL fit for a message: query string and fragment replaced, user info removed. */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = new URL(String(url));
    const hasQuery = parsed.search.length > 0;
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    return hasQuery ? `${parsed.toString()}?<redacted>` : parsed.toString();
  } catch {
    const text = String(url);
    const cut = text.search(/[?#]/);
    return cut < 0 ? text : `${text.slice(0, cut)}?<redacted>`;
  }
}
