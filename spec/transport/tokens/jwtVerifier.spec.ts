import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { jwtVerifier, type JwtVerifierOptions } from '../../../src/testing/jwtVerifier.js';
import { listenOnLoopback } from '../../support/http-server.js';

const ISSUER = 'https://crispthinking.auth0.com/';
const AUDIENCE = 'crisp-athena-live';

let signingKey: CryptoKey;
let publicJwk: JWK;
let strangerKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  strangerKey = (await generateKeyPair('ES256')).privateKey;
});

function sign(
  claims: Record<string, unknown> = {},
  { key = signingKey, kid = 'k1', expiresIn = '5m' as string | number } = {},
): Promise<string> {
  const jwt = new SignJWT({ iss: ISSUER, aud: AUDIENCE, scope: 'classify', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
    .setIssuedAt();
  if (expiresIn !== '') jwt.setExpirationTime(expiresIn);
  return jwt.sign(key);
}

function verifier(rest: Partial<JwtVerifierOptions> = {}) {
  return jwtVerifier({ jwks: { keys: [publicJwk] }, issuer: ISSUER, audience: AUDIENCE, ...rest });
}

describe('jwtVerifier', () => {
  it('accepts a token signed by a key of the set with the right issuer, audience and expiry', async () => {
    expect(await verifier()(await sign())).toBe(true);
  });

  it('accepts a token naming the audience among others', async () => {
    expect(await verifier()(await sign({ aud: ['https://other.example', AUDIENCE] }))).toBe(true);
  });

  it.each([
    ['expired', () => sign({}, { expiresIn: Math.floor(Date.now() / 1000) - 30 })],
    ['without exp', () => sign({}, { expiresIn: '' })],
    ['for another audience', () => sign({ aud: 'crisp-athena-qa' })],
    ['from another issuer', () => sign({ iss: 'https://evil.example/' })],
    ['signed by a stranger under the same kid', () => sign({}, { key: strangerKey })],
    ['signed by a stranger under an unknown kid', () => sign({}, { key: strangerKey, kid: 'k9' })],
    [
      'unsecured (alg none)',
      async () =>
        new UnsecuredJWT({ scope: 'classify' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('5m')
          .encode(),
    ],
    ['garbage', async () => 'abc.def.ghi'],
    ['empty', async () => ''],
  ])('rejects a token %s', async (_what, make) => {
    expect(await verifier()(await make())).toBe(false);
  });

  it('allows the clock tolerance it is given', async () => {
    const token = await sign({}, { expiresIn: Math.floor(Date.now() / 1000) - 5 });
    expect(await verifier({ clockToleranceSec: 60 })(token)).toBe(true);
    expect(await verifier()(token)).toBe(false);
  });

  it('restricts algorithms when asked', async () => {
    expect(await verifier({ algorithms: ['RS256'] })(await sign())).toBe(false);
  });

  it('fetches a remote key set, and rejects (rather than says false) when it cannot', async () => {
    const server = await listenOnLoopback((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [publicJwk] }));
    });
    const jwksUrl = `${server.base}/jwks`;
    try {
      const remote = jwtVerifier({ jwksUrl, issuer: ISSUER, audience: AUDIENCE });
      expect(await remote(await sign())).toBe(true);
    } finally {
      await server.close();
    }
    const unreachable = jwtVerifier({ jwksUrl, issuer: ISSUER, audience: AUDIENCE });
    await expect(unreachable(await sign())).rejects.toThrow();
  });

  it.each([
    ['neither jwksUrl nor jwks', { jwks: undefined }, TypeError],
    ['both jwksUrl and jwks', { jwksUrl: 'https://x.example/jwks' }, TypeError],
    ['a jwks without keys', { jwks: {} }, TypeError],
    ['an empty issuer', { issuer: '' }, RangeError],
    ['no audience', { audience: [] }, TypeError],
    ['an empty audience', { audience: '' }, RangeError],
    ['a negative clock tolerance', { clockToleranceSec: -1 }, RangeError],
  ])('throws for %s', (_what, rest, type) => {
    const given = { jwks: { keys: [publicJwk] }, issuer: ISSUER, audience: AUDIENCE, ...rest };
    expect(() => jwtVerifier(given as JwtVerifierOptions)).toThrow(type);
  });

  it('throws for a jwksUrl that does not parse', () => {
    expect(() => jwtVerifier({ jwksUrl: 'not a url', issuer: ISSUER, audience: AUDIENCE })).toThrow(
      TypeError,
    );
  });
});
