/**
 * src/internal/tokens/ holds the token manager and the OAuth requests it runs; it imports rxjs,
 * src/errors.ts, src/internal/ helpers and the types of src/transport/contracts.ts only.
 *
 * This file: one OAuth 2 token request (RFC 6749 sections 4 and 5): a form-encoded POST whose answer becomes a
 * {@link TokenGrant} (see `answer.ts`), every failure an `OAuthError` that never shows a secret.
 * Unsubscribing aborts the request; the timeout runs on the endpoint's scheduler.
 */
import { catchError, defer, from, map, switchMap, throwError, timeout, type Observable } from 'rxjs';
import { abortable } from '../core/abortable.js';
import { OAuthError, redactUrl } from '../../errors.js';
import { clean, toGrant, type TokenAnswer, type TokenGrant } from './answer.js';
import type { TokenEndpoint, TokenFetch, TokenHttpResponse } from './options.js';

export type { TokenGrant } from './answer.js';

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
        const reason = clean(
          error instanceof Error ? describeNetworkError(error) : String(error),
          secrets,
          300,
        );
        return throwError(
          () => new OAuthError(`Token request to ${shown} failed: ${reason}`, { cause: error }),
        );
      }),
      map((answer) => toGrant(answer, issuedAt, shown, secrets, endpoint.defaultExpiresInS)),
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

function exchange(fetchFn: TokenFetch, url: string, body: string): Observable<TokenAnswer> {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  // Settled once the body is read: nothing is left to abort after that.
  return abortable((signal) =>
    defer(() => fetchFn(url, { method: 'POST', headers, body, signal })).pipe(
      switchMap((response: TokenHttpResponse) => readAnswer(response)),
    ),
  );
}

function readAnswer(response: TokenHttpResponse): Observable<TokenAnswer> {
  return from(response.text()).pipe(
    map((text) => ({ status: response.status, retryAfter: response.headers.get('retry-after'), text })),
  );
}

function describeNetworkError(error: Error): string {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
