import { registerSecret } from '../internal/secrets/scrub.js';
import {
  assertOptions,
  assertSecret,
  optionalString,
  tokenEndpoint,
  type TokenRefreshOptions,
} from '../internal/tokens/options.js';
import { requestToken } from '../internal/tokens/request.js';
import { retryTransient } from '../internal/tokens/retry.js';
import { managedSource, type RefreshingTokenSource } from '../internal/tokens/source.js';
import { assertString } from '../internal/core/validate.js';

export type {
  TokenFetch,
  TokenHttpRequest,
  TokenHttpResponse,
  TokenRefreshOptions,
} from '../internal/tokens/options.js';
export type { RefreshingTokenSource } from '../internal/tokens/source.js';

/** The token endpoint of the public Athena service. */
export const DEFAULT_TOKEN_URL = 'https://crispthinking.auth0.com/oauth/token';
/** The audience of the live Athena service (`crisp-athena-dev` and `crisp-athena-qa` also exist). */
export const DEFAULT_AUDIENCE = 'crisp-athena-live';

export interface ClientCredentialsOptions extends TokenRefreshOptions {
  /** Token endpoint (default `https://crispthinking.auth0.com/oauth/token`); https, or http on loopback. */
  readonly tokenUrl?: string;
  readonly clientId: string;
  /** Sent in the request body only; never appears in a message. */
  readonly clientSecret: string;
  /** The API the token is for, sent as Auth0's `audience` parameter (default `crisp-athena-live`). */
  readonly audience?: string;
  /** Space-separated scopes, sent only when given. */
  readonly scope?: string;
}

/**
 * An OAuth 2 client-credentials token source (RFC 6749 section 4.4, Auth0 flavour): POSTs
 * `grant_type=client_credentials`, `client_id`, `client_secret`, `audience` and `scope` form-encoded to
 * the token endpoint, emits the token, and fetches the next one before the old expires.
 *
 * Shared and single-flight: however many calls or clients subscribe, one token manager serves them
 * all, one request runs at a time, and late subscribers get the latest token at once. Refresh timers
 * never keep the process alive (see `scheduler`). An answer without `expires_in` gets
 * `defaultExpiresInS` (3600). The refresh cycle stops when the last subscriber leaves (aborting a
 * request in flight) and restarts on the next, reusing a token that is not yet due. Network errors,
 * timeouts, 408, 429 (honouring `Retry-After`) and 5xx are retried with jittered backoff; any other
 * answer fails subscribers with an `OAuthError` carrying the server's `error`,
 * `error_description` and HTTP status, never the secret.
 *
 * ```text
 * subscribe ──a─────────────b─────────────c──   a request at start, then at expiry - margin
 * refresh()            ^    b'                   one forced request (ignored while one runs)
 * 401 answer ──#                                 OAuthError, no retry
 * ```
 *
 * @example
 * ```ts
 * import { clientCredentials } from 'athena-rx/transport';
 *
 * const tokens = clientCredentials({
 *   clientId: process.env.ATHENA_CLIENT_ID!,
 *   clientSecret: process.env.ATHENA_CLIENT_SECRET!,
 *   audience: 'crisp-athena-live',
 * });
 * ```
 *
 * @param options `tokenUrl`, `clientId`, `clientSecret`, `audience`, `scope`, and the
 *   {@link TokenRefreshOptions}: `refreshMarginMs` (60 000, at most a tenth of the lifetime), `retry`,
 *   `timeoutMs` (30 000), `defaultExpiresInS` (3600), `scheduler` (unref'd timers), `fetch` (global fetch).
 * @throws TypeError / RangeError at once for invalid options.
 */
export function clientCredentials(options: ClientCredentialsOptions): RefreshingTokenSource {
  assertOptions('clientCredentials', options);
  const endpoint = tokenEndpoint(options.tokenUrl ?? DEFAULT_TOKEN_URL, options);
  const clientId = assertString('clientId', options.clientId);
  const clientSecret = assertSecret('clientSecret', options.clientSecret);
  registerSecret(clientSecret);
  const audience = assertString('audience', options.audience ?? DEFAULT_AUDIENCE);
  const scope = optionalString('scope', options.scope);
  const form = {
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: clientSecret,
    audience,
    scope,
  };
  return managedSource(
    () =>
      requestToken(endpoint, form, [clientSecret]).pipe(retryTransient(endpoint.retry, endpoint.scheduler)),
    { refreshMarginMs: endpoint.refreshMarginMs, scheduler: endpoint.injectedScheduler },
  );
}
