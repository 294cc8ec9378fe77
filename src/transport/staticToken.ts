import { of, type Observable } from 'rxjs';
import { registerSecret } from '../internal/secrets/scrub.js';
import { HEADER_SAFE } from '../internal/tokens/answer.js';
import type { AccessToken } from './contracts.js';

/**
 * A token source for a token obtained elsewhere: emits it once and completes; it never refreshes, so it
 * offers no `refresh()` and a call failing `UNAUTHENTICATED` is not retried. A string becomes a
 * `Bearer` token that never expires.
 *
 * ```text
 * staticToken('t')  (a|)
 * ```
 *
 * @example
 * ```ts
 * import { staticToken } from 'athena-rx/transport';
 *
 * const tokens = staticToken(process.env.ATHENA_TOKEN!);
 * const dev = staticToken({ accessToken: 'dev-token', tokenType: 'Bearer', expiresAt: Infinity });
 * ```
 *
 * @param token The bearer value, or a whole {@link AccessToken} (`expiresAt` in epoch ms, default
 *   `Infinity`; `tokenType` default `Bearer`).
 * @throws TypeError / RangeError at once for an empty token or one that cannot go in a header. The
 *   message never shows the token.
 */
export function staticToken(
  token: string | (Pick<AccessToken, 'accessToken'> & Partial<AccessToken>),
): Observable<AccessToken> {
  const given = typeof token === 'string' ? { accessToken: token } : token;
  if (typeof given !== 'object' || given === null) {
    throw new TypeError('token must be a string or an AccessToken');
  }
  const { accessToken, tokenType = 'Bearer', expiresAt = Number.POSITIVE_INFINITY } = given;
  if (typeof accessToken !== 'string') throw new TypeError('accessToken must be a string');
  if (!HEADER_SAFE.test(accessToken)) {
    throw new RangeError('accessToken must be non-empty visible ASCII without spaces');
  }
  if (typeof tokenType !== 'string' || !HEADER_SAFE.test(tokenType)) {
    throw new TypeError('tokenType must be a non-empty word such as "Bearer"');
  }
  if (typeof expiresAt !== 'number' || Number.isNaN(expiresAt)) {
    throw new TypeError('expiresAt must be a number (epoch milliseconds)');
  }
  registerSecret(accessToken);
  const value: AccessToken = Object.freeze({ accessToken, tokenType, expiresAt });
  return of(value);
}
