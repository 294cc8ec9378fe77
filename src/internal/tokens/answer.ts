/**
 * src/internal/tokens/ holds the token manager and the OAuth requests it runs; it imports rxjs,
 * src/errors.ts, src/internal/ helpers and the types of src/transport/contracts.ts only.
 *
 * This file: the answer of an OAuth 2 token endpoint: a success validated into a {@link TokenGrant} (RFC 6749
 * section 5.1), a refusal turned into an `OAuthError` carrying the HTTP status and the server's `error`
 * / `error_description` (section 5.2). Secrets are scrubbed from anything the server says.
 */
import { OAuthError } from '../../errors.js';
import { scrubText } from '../secrets/scrub.js';
import type { TokenGrant } from './state.js';

export type { TokenGrant } from './state.js';

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

/**
 * Turns an answer into a grant, or throws the `OAuthError` it amounts to. An answer without
 * `expires_in` gets `defaultExpiresInS`; one with an unusable `expires_in` is refused.
 */
export function toGrant(
  answer: TokenAnswer,
  issuedAt: number,
  shown: string,
  secrets: readonly string[],
  defaultExpiresInS: number,
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
    expires_in === undefined || expires_in === null
      ? defaultExpiresInS
      : typeof expires_in === 'string' && /^\d+$/.test(expires_in)
        ? Number(expires_in)
        : expires_in;
  if (typeof lifetime !== 'number' || Number.isNaN(lifetime) || lifetime < 1) {
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

/**
 * Server or network text fit for a message: every registered secret and `secrets` replaced (also in
 * form encoding, which `scrubText` does not cover), control characters dropped, length capped.
 */
export function clean(text: string, secrets: readonly string[], max: number): string {
  const forms = secrets.flatMap((secret) => [secret, new URLSearchParams({ s: secret }).toString().slice(2)]);
  return scrubText(text, forms, max).replace(/\p{Cc}+/gu, ' ');
}
