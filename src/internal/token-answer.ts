/**
 * The answer of an OAuth 2 token endpoint: a success validated into a {@link TokenGrant} (RFC 6749
 * section 5.1), a refusal turned into an `OAuthError` carrying the HTTP status and the server's `error`
 * / `error_description` (section 5.2). Secrets are scrubbed from anything the server says.
 */
import { OAuthError } from '../errors.js';
import type { AccessToken } from '../transport/contracts.js';

/** A token with what the refresh cycle needs to know about it. */
export interface TokenGrant {
  readonly token: AccessToken;
  /** When the request that produced it was sent (scheduler time). */
  readonly issuedAt: number;
  readonly refreshToken?: string;
}

/** What came back: status, `Retry-After`, body. */
export interface TokenAnswer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly text: string;
}

const retryAfterOf = new WeakMap<OAuthError, number>();

/** The delay an HTTP 429/503 answer asked for with a delta-seconds `Retry-After`, in milliseconds. */
export function retryAfterMs(error: unknown): number | undefined {
  return error instanceof OAuthError ? retryAfterOf.get(error) : undefined;
}

/** Turns an answer into a grant, or throws the `OAuthError` it amounts to. */
export function toGrant(
  answer: TokenAnswer,
  issuedAt: number,
  shown: string,
  secrets: readonly string[],
): TokenGrant {
  const json = parseJson(answer.text);
  if (answer.status < 200 || answer.status > 299) throw refusal(answer, json, shown, secrets);
  const invalid = (what: string) =>
    new OAuthError(`Token endpoint ${shown} answered HTTP ${answer.status} ${what}`, {
      httpStatus: answer.status,
    });
  if (json === undefined) throw invalid('without a JSON object');
  const { access_token, token_type, expires_in, refresh_token } = json;
  if (typeof access_token !== 'string' || !HEADER_SAFE.test(access_token)) {
    throw invalid('without a usable access_token');
  }
  if (token_type !== undefined && (typeof token_type !== 'string' || !HEADER_SAFE.test(token_type))) {
    throw invalid('with an unusable token_type');
  }
  const lifetime =
    typeof expires_in === 'string' && /^\d+$/.test(expires_in) ? Number(expires_in) : expires_in;
  if (typeof lifetime !== 'number' || !Number.isFinite(lifetime) || lifetime < 1) {
    throw invalid('without a usable expires_in (seconds, at least 1)');
  }
  return {
    token: {
      accessToken: access_token,
      tokenType: token_type ?? 'Bearer',
      expiresAt: issuedAt + lifetime * 1000,
    },
    issuedAt,
    ...(typeof refresh_token === 'string' && refresh_token.length > 0 ? { refreshToken: refresh_token } : {}),
  };
}

/** Visible ASCII without spaces: safe inside an `authorization` header value. */
export const HEADER_SAFE = /^[\x21-\x7e]+$/;

function refusal(
  answer: TokenAnswer,
  json: Record<string, unknown> | undefined,
  shown: string,
  secrets: readonly string[],
): OAuthError {
  const error = typeof json?.['error'] === 'string' ? clean(json['error'], secrets, 80) : undefined;
  const description =
    typeof json?.['error_description'] === 'string'
      ? clean(json['error_description'], secrets, 300)
      : undefined;
  const said = [error, description && `(${description})`].filter(Boolean).join(' ');
  const failure = new OAuthError(
    `Token endpoint ${shown} answered HTTP ${answer.status}${said ? ` ${said}` : ''}`,
    {
      httpStatus: answer.status,
      ...(error && { error }),
      ...(description && { errorDescription: description }),
    },
  );
  const seconds = answer.retryAfter?.trim();
  if (seconds && /^\d{1,9}$/.test(seconds)) retryAfterOf.set(failure, Number(seconds) * 1000);
  return failure;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Server or network text fit for a message: secrets replaced, control characters dropped, length capped. */
export function clean(text: string, secrets: readonly string[], max: number): string {
  const flat = scrub(text, secrets).replace(/\p{Cc}+/gu, ' ');
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const encoded = new URLSearchParams({ s: secret }).toString().slice(2);
    for (const form of new Set([secret, encoded, encodeURIComponent(secret)])) {
      out = out.split(form).join('<redacted>');
    }
  }
  return out;
}
