import { type Metadata } from '@grpc/grpc-js';
import { assertFunction } from '../internal/core/validate.js';

/**
 * Token checks of the embedded server. Each call must carry metadata
 * `authorization: <type> <token>` (any type word, e.g. `Bearer`); a call without it, or with a
 * token that neither is in `tokens` nor passes `verify`, fails with `UNAUTHENTICATED`.
 */
export interface AthenaServerAuth {
  /** Tokens accepted as they are. */
  readonly tokens?: Iterable<string>;
  /**
   * Decides about tokens not in `tokens` (e.g. a JWT/JWKS check). A rejection or a throw refuses
   * the call. Receives the token and the type word before it.
   */
  readonly verify?: (token: string, type: string) => boolean | Promise<boolean>;
}

/** Resolves to whether the call's metadata carries an accepted token. Never rejects. */
export type Authorizer = (metadata: Metadata) => Promise<boolean>;

/** The status details sent with `UNAUTHENTICATED`; never mentions the token itself. */
export const UNAUTHENTICATED_DETAILS = 'Missing, invalid or expired access token';

/**
 * Builds the check for `auth`; `undefined` (no auth configured) accepts every call.
 *
 * @param auth - Accepted tokens and/or a verify function; at least one must be given.
 */
export function createAuthorizer(auth: AthenaServerAuth | undefined): Authorizer | undefined {
  if (auth === undefined) return undefined;
  if (typeof auth !== 'object' || auth === null) throw new TypeError('auth must be an object');
  if (auth.tokens === undefined && auth.verify === undefined) {
    throw new RangeError('auth needs `tokens`, `verify` or both');
  }
  const tokens = new Set<string>();
  for (const token of auth.tokens ?? []) {
    if (typeof token !== 'string' || token.length === 0)
      throw new TypeError('auth.tokens must be non-empty strings');
    tokens.add(token);
  }
  const verify =
    auth.verify === undefined
      ? undefined
      : assertFunction<NonNullable<AthenaServerAuth['verify']>>('auth.verify', auth.verify);
  return async (metadata) => {
    const parsed = parseAuthorization(metadata);
    if (parsed === undefined) return false;
    if (tokens.has(parsed.token)) return true;
    if (verify === undefined) return false;
    try {
      return (await verify(parsed.token, parsed.type)) === true;
    } catch {
      return false;
    }
  };
}

function parseAuthorization(metadata: Metadata): { type: string; token: string } | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\S+)\s+(\S.*?)\s*$/.exec(value);
  if (match === null) return undefined;
  return { type: match[1] as string, token: match[2] as string };
}
