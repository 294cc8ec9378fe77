/**
 * One OAuth 2 token request (RFC 6749 section 4 and 5): a form-encoded POST, the answer validated into
 * an {@link AccessToken}, every failure an {@link OAuthError} whose message names the endpoint, the
 * HTTP status and the server's `error` / `error_description`, and never a secret.
 */
import { Observable, catchError, defer, from, map, switchMap, throwError, timeout } from 'rxjs';
import { OAuthError, redactUrl } from '../errors.js';
import type { AccessToken } from '../transport/contracts.js';
import type { TokenEndpoint, TokenFetch, TokenHttpResponse } from './token-options.js';

/** A token with what the refresh cycle needs to know about it. */
export interface TokenGrant {
  readonly token: AccessToken;
  /** When the request that produced it was sent (scheduler time). */
  readonly issuedAt: number;
  readonly refreshToken?: string;
}

interface Exchange {
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
 * A cold Observable making one token request. `secrets` are scrubbed from anything the server or the
 * network layer says before it reaches a message. Unsubscribing aborts the request.
 */
export function requestToken(
  endpoint: TokenEndpoint,
  form: Record<string, string | undefined>,
  secrets: readonly string[],
): Observable<TokenGrant> {
  const shown = redactUrl(endpoint.url);
  return defer(() => {
    const issuedAt = endpoint.scheduler.now();
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(form)) if (value !== undefined) body.set(key, value);
    const fetchFn: TokenFetch = endpoint.fetch ?? globalThis.fetch;
    return exchange(fetchFn, endpoint.url, body.toString()).pipe(
      catchError((error: unknown) => {
        const reason = scrub(error instanceof Error ? describeNetworkError(error) : String(error), secrets);
        return throwError(() => new OAuthError(`Token request to ${shown} failed: ${reason}`, { cause: error }));
      }),
      map((answer) => toGrant(answer, issuedAt, shown, secrets)),
      timeout({
        first: endpoint.timeoutMs,
        scheduler: endpoint.scheduler,
        with: () =>
          throwError(
            () => new OAuthError(`Token request to ${shown} timed out after ${endpoint.timeoutMs} ms`),
          ),
      }),
    );
  });
}

function exchange(fetchFn: TokenFetch, url: string, body: string): Observable<Exchange> {
  return new Observable<Exchange>((subscriber) => {
    const controller = new AbortController();
    let settled = false;
    const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const subscription = defer(() => fetchFn(url, { method: 'POST', headers, body, signal: controller.signal }))
      .pipe(switchMap((response: TokenHttpResponse) => readAnswer(response)))
      .subscribe({
        next: (value) => subscriber.next(value),
        error: (error: unknown) => {
          settled = true;
          subscriber.error(error);
        },
        complete: () => {
          settled = true;
          subscriber.complete();
        },
      });
    return () => {
      subscription.unsubscribe();
      if (!settled) controller.abort();
    };
  });
}

function readAnswer(response: TokenHttpResponse): Observable<Exchange> {
  return from(response.text()).pipe(
    map((text) => ({ status: response.status, retryAfter: response.headers.get('retry-after'), text })),
  );
}

function toGrant(answer: Exchange, issuedAt: number, shown: string, secrets: readonly string[]): TokenGrant {
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
  const lifetime = typeof expires_in === 'string' && /^\d+$/.test(expires_in) ? Number(expires_in) : expires_in;
  if (typeof lifetime !== 'number' || !Number.isFinite(lifetime) || lifetime < 1) {
    throw invalid('without a usable expires_in (seconds, at least 1)');
  }
  return {
    token: { accessToken: access_token, tokenType: token_type ?? 'Bearer', expiresAt: issuedAt + lifetime * 1000 },
    issuedAt,
    ...(typeof refresh_token === 'string' && refresh_token.length > 0 ? { refreshToken: refresh_token } : {}),
  };
}

/** Visible ASCII without spaces: safe inside an `authorization` header value. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

function refusal(
  answer: Exchange,
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
    { httpStatus: answer.status, ...(error && { error }), ...(description && { errorDescription: description }) },
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

function describeNetworkError(error: Error): string {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

/** Server or network text fit for a message: secrets replaced, control characters dropped, length capped. */
function clean(text: string, secrets: readonly string[], max: number): string {
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
