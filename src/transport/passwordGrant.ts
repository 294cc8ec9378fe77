import { catchError, map, throwError, type Observable } from 'rxjs';
import { OAuthError } from '../errors.js';
import { registerSecret } from '../internal/secrets/scrub.js';
import {
  assertOptions,
  assertSecret,
  isTransientTokenError,
  optionalString,
  tokenEndpoint,
  type TokenEndpoint,
  type TokenRefreshOptions,
} from '../internal/tokens/options.js';
import { requestToken, type TokenGrant } from '../internal/tokens/request.js';
import { retryTransient } from '../internal/tokens/retry.js';
import { managedSource, type RefreshingTokenSource } from '../internal/tokens/source.js';

export interface PasswordGrantOptions extends TokenRefreshOptions {
  /** Token endpoint: https, or http on a loopback host. */
  readonly tokenUrl: string;
  /** Sent when given. */
  readonly clientId?: string;
  /** Sent when given; never appears in a message. */
  readonly clientSecret?: string;
  /** Never appears in a message. */
  readonly username: string;
  /** Never appears in a message. */
  readonly password: string;
  /** Sent as Auth0's `audience` parameter when given. */
  readonly audience?: string;
  /** Space-separated scopes (`offline_access` usually asks for a refresh token), sent when given. */
  readonly scope?: string;
}

/**
 * An OAuth 2 resource-owner password token source (RFC 6749 section 4.3). Same sharing, refresh timing,
 * retries and errors as `clientCredentials`. When the server hands out a `refresh_token`, later refreshes
 * use it (section 6), keeping the last one given; if the server refuses it (a 4xx answer), the source
 * falls back to the password grant.
 *
 * ```text
 * subscribe ──a(password)───────b(refresh_token)──────c(refresh refused → password)──
 * ```
 *
 * @example
 * ```ts
 * import { passwordGrant } from 'athena-rx/transport';
 *
 * const tokens = passwordGrant({
 *   tokenUrl: 'https://login.example.com/oauth/token',
 *   clientId: 'my-app',
 *   username: 'reviewer@example.com',
 *   password: process.env.ATHENA_PASSWORD!,
 *   audience: 'crisp-athena-live',
 *   scope: 'offline_access',
 * });
 * ```
 *
 * @param options `tokenUrl`, `clientId`, `clientSecret`, `username`, `password`, `audience`, `scope`, and
 *   the shared refresh options (`refreshMarginMs` 60 000, `retry`, `timeoutMs` 30 000,
 *   `defaultExpiresInS` 3600, `scheduler`, `fetch`).
 * @throws TypeError / RangeError at once for invalid options.
 */
export function passwordGrant(options: PasswordGrantOptions): RefreshingTokenSource {
  assertOptions('passwordGrant', options);
  const endpoint = tokenEndpoint(options.tokenUrl, options);
  const clientId = optionalString('clientId', options.clientId);
  const clientSecret =
    options.clientSecret === undefined ? undefined : assertSecret('clientSecret', options.clientSecret);
  const username = assertSecret('username', options.username);
  const password = assertSecret('password', options.password);
  registerSecret(password);
  registerSecret(clientSecret);
  const audience = optionalString('audience', options.audience);
  const scope = optionalString('scope', options.scope);
  const client = { client_id: clientId, client_secret: clientSecret };
  const secrets = [password, clientSecret ?? ''];

  const byPassword = (spent: readonly string[] = []) =>
    attempt(endpoint, { grant_type: 'password', ...client, username, password, audience, scope }, [
      ...secrets,
      ...spent,
    ]);
  const byRefreshToken = (refreshToken: string) =>
    attempt(endpoint, { grant_type: 'refresh_token', ...client, refresh_token: refreshToken }, [
      ...secrets,
      refreshToken,
    ]).pipe(
      map((grant): TokenGrant => (grant.refreshToken ? grant : { ...grant, refreshToken })),
      catchError((error: unknown) =>
        isRefusal(error) ? byPassword([refreshToken]) : throwError(() => error),
      ),
    );

  return managedSource(
    (previous) => (previous?.refreshToken ? byRefreshToken(previous.refreshToken) : byPassword()),
    { refreshMarginMs: endpoint.refreshMarginMs, scheduler: endpoint.injectedScheduler },
  );
}

function attempt(
  endpoint: TokenEndpoint,
  form: Record<string, string | undefined>,
  secrets: readonly string[],
): Observable<TokenGrant> {
  return requestToken(endpoint, form, secrets).pipe(retryTransient(endpoint.retry, endpoint.scheduler));
}

/** The server answered and said no (4xx other than 408/429): the refresh token is spent or revoked. */
function isRefusal(error: unknown): boolean {
  return (
    error instanceof OAuthError &&
    error.httpStatus !== undefined &&
    error.httpStatus >= 400 &&
    error.httpStatus < 500 &&
    !isTransientTokenError(error)
  );
}
