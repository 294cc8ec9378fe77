import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet } from 'jose';
import { assertNumber, assertString } from '../internal/core/validate.js';

export interface JwtVerifierOptions {
  /** Where the provider publishes its keys (`<issuer>/.well-known/jwks.json`, `/jwks`, ...). */
  readonly jwksUrl?: string | URL;
  /** The provider's public keys, when they are known up front (instead of `jwksUrl`). */
  readonly jwks?: JSONWebKeySet;
  /** Expected `iss`, exactly (Auth0: `https://crispthinking.auth0.com/`). */
  readonly issuer: string;
  /** Expected `aud`: the token must name this audience (or one of these). */
  readonly audience: string | readonly string[];
  /** Signing algorithms accepted (default: whatever the key set's keys allow; never `none`). */
  readonly algorithms?: readonly string[];
  /** Leeway for `exp` / `nbf` / `iat` in seconds (default 0). */
  readonly clockToleranceSec?: number;
}

/** Checks a bearer token; the shape the embedded server's `auth.verify` takes. */
export type TokenVerifier = (token: string) => Promise<boolean>;

/** JOSE failures that mean "this token is not acceptable", as opposed to "the keys could not be had". */
const TOKEN_FAILURES = new Set<string>([
  errors.JWTClaimValidationFailed.code,
  errors.JWTExpired.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWSInvalid.code,
  errors.JWTInvalid.code,
  errors.JWKInvalid.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JWSSignatureVerificationFailed.code,
]);

/**
 * A verifier for JWT access tokens, for the embedded server's `auth: { verify }`: resolves `true` when
 * the token's signature checks against the provider's JSON Web Key Set and its `iss`, `aud` and `exp`
 * (required) are right. Resolves `false` for any token that fails; rejects only when the key set
 * cannot be fetched or is malformed, so a broken setup is not mistaken for a bad token. A remote key
 * set is fetched on first use and again when a token names an unknown key.
 *
 * @example
 * ```ts
 * import { jwtVerifier } from 'athena-rx/testing';
 *
 * const verify = jwtVerifier({
 *   jwksUrl: 'https://crispthinking.auth0.com/.well-known/jwks.json',
 *   issuer: 'https://crispthinking.auth0.com/',
 *   audience: 'crisp-athena-live',
 * });
 * await verify(token); // true or false
 * ```
 *
 * @throws TypeError / RangeError at once for invalid options (neither or both of `jwksUrl` and `jwks`,
 *   a URL that does not parse, an empty issuer or audience).
 */
export function jwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const { jwksUrl, jwks } = options;
  if ((jwksUrl === undefined) === (jwks === undefined)) {
    throw new TypeError('give exactly one of jwksUrl and jwks');
  }
  const issuer = assertString('issuer', options.issuer);
  const audiences = typeof options.audience === 'string' ? [options.audience] : options.audience;
  if (!Array.isArray(audiences) || audiences.length === 0) {
    throw new TypeError('audience must be a string or a non-empty array of strings');
  }
  audiences.forEach((value, index) => assertString(`audience[${index}]`, value));
  const clockTolerance = assertNumber('clockToleranceSec', options.clockToleranceSec ?? 0, 0);
  const keys = jwks === undefined ? createRemoteJWKSet(parseUrl(jwksUrl)) : localKeys(jwks);
  const verifyOptions = {
    issuer,
    audience: [...audiences],
    clockTolerance,
    requiredClaims: ['exp'],
    ...(options.algorithms && { algorithms: [...options.algorithms] }),
  };

  return async (token: string): Promise<boolean> => {
    if (typeof token !== 'string' || token.length === 0) return false;
    try {
      await jwtVerify(token, keys, verifyOptions);
      return true;
    } catch (error) {
      if (error instanceof errors.JOSEError && TOKEN_FAILURES.has(error.code)) return false;
      throw error;
    }
  };
}

function parseUrl(value: string | URL | undefined): URL {
  try {
    return new URL(String(value));
  } catch {
    throw new TypeError('jwksUrl must be an absolute URL');
  }
}

function localKeys(jwks: JSONWebKeySet): ReturnType<typeof createLocalJWKSet> {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys)) {
    throw new TypeError('jwks must be a JSON Web Key Set ({ keys: [...] })');
  }
  return createLocalJWKSet(jwks);
}
