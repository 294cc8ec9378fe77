/**
 * The token sources and the JWT verifier against a real OAuth 2 server (oidc-provider on 127.0.0.1)
 * issuing 2-second JWT access tokens.
 */
import { concatMap, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthError } from '../../../src/errors.js';
import { jwtVerifier } from '../../../src/testing/jwtVerifier.js';
import { clientCredentials, type TokenFetch } from '../../../src/transport/clientCredentials.js';
import { startOidcProvider, type OidcProviderHandle } from '../../support/oidc.js';

let auth: OidcProviderHandle;

beforeAll(async () => {
  // Long enough that the refresh margin (a tenth of the lifetime) covers a token request on a loaded machine.
  auth = await startOidcProvider({ accessTokenTtlSec: 10 });
});

afterAll(async () => {
  await auth?.close();
});

function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function countingFetch(): { fetch: TokenFetch; count: () => number } {
  let calls = 0;
  return {
    fetch: (url, init) => {
      calls += 1;
      return fetch(url, init);
    },
    count: () => calls,
  };
}

function verifierFor(audience: string) {
  return jwtVerifier({ jwksUrl: auth.jwksUrl, issuer: auth.issuer, audience });
}

describe('clientCredentials against oidc-provider', () => {
  it('keeps emitting fresh, valid tokens across three lifetimes', async () => {
    const verify = verifierFor(auth.audience);
    const http = countingFetch();
    const received = await lastValueFrom(
      clientCredentials({ ...auth.credentials(), fetch: http.fetch }).pipe(
        take(5),
        concatMap(async (token) => ({ token, at: Date.now(), valid: await verify(token.accessToken) })),
        toArray(),
      ),
    );
    expect(received.map((entry) => entry.valid)).toEqual([true, true, true, true, true]);
    expect(new Set(received.map((entry) => entry.token.accessToken)).size).toBe(5);
    expect(http.count()).toBe(5);
    const lifetimeMs = auth.accessTokenTtlSec * 1000;
    expect((received.at(-1)?.at ?? 0) - (received[0]?.at ?? 0)).toBeGreaterThanOrEqual(3 * lifetimeMs);
    received.forEach(({ token, at }, index) => {
      expect(token.tokenType).toBe('Bearer');
      expect(token.expiresAt).toBeGreaterThan(at);
      const claims = claimsOf(token.accessToken);
      expect(claims['aud']).toBe('crisp-athena-live');
      expect(claims['iss']).toBe(auth.issuer);
      // Each token arrived before the one before it expired: no gap without a valid token.
      const previous = received[index - 1];
      if (previous) expect(at).toBeLessThan(previous.token.expiresAt);
    });
    // By now the first token has expired at the provider too.
    expect(await verify(received[0]?.token.accessToken ?? '')).toBe(false);
  }, 90_000);

  it('fetches a new token at once on refresh()', async () => {
    const longLived = await startOidcProvider({ accessTokenTtlSec: 600 });
    try {
      const http = countingFetch();
      const source = clientCredentials({ ...longLived.credentials(), fetch: http.fetch });
      const tokens: string[] = [];
      const twoTokens = new Promise<void>((resolve, reject) => {
        const subscription = source.subscribe({
          next: (token) => {
            tokens.push(token.accessToken);
            if (tokens.length === 1) source.refresh();
            if (tokens.length === 2) {
              subscription.unsubscribe();
              resolve();
            }
          },
          error: reject,
        });
      });
      await twoTokens;
      expect(http.count()).toBe(2);
      expect(tokens[0]).not.toBe(tokens[1]);
    } finally {
      await longLived.close();
    }
  });

  it.each([
    ['a wrong secret', { clientSecret: 'wrong-secret-0123456789' }, 401, 'invalid_client'],
    ['an unknown client', { clientId: 'nobody', clientSecret: 'nobodys-secret-987' }, 401, 'invalid_client'],
    ['a wrong audience', { audience: 'crisp-athena-nowhere' }, 400, 'invalid_target'],
  ])('fails fast with an OAuthError for %s, without the secret', async (_what, overrides, status, code) => {
    const http = countingFetch();
    const credentials = auth.credentials(overrides);
    const failure: unknown = await firstValueFrom(
      clientCredentials({ ...credentials, fetch: http.fetch }),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OAuthError);
    const error = failure as OAuthError;
    expect(error.httpStatus).toBe(status);
    expect(error.error).toBe(code);
    expect(error.message).toContain(`HTTP ${status} ${code}`);
    expect(error.message).not.toContain(credentials.clientSecret);
    expect(http.count()).toBe(1);
  });
});

describe('jwtVerifier against oidc-provider', () => {
  async function tokenFor(audience: string): Promise<string> {
    const token = await firstValueFrom(clientCredentials(auth.credentials({ audience })));
    return token.accessToken;
  }

  it('accepts the provider token and rejects a tampered one', async () => {
    const verify = verifierFor('crisp-athena-live');
    const jwt = await tokenFor('crisp-athena-live');
    expect(await verify(jwt)).toBe(true);
    const [header, payload, signature] = jwt.split('.') as [string, string, string];
    const claims = { ...claimsOf(jwt), scope: 'classify admin' };
    const forged = Buffer.from(JSON.stringify(claims)).toString('base64url');
    expect(await verify(`${header}.${forged}.${signature}`)).toBe(false);
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await verify(`${header}.${payload}.${flipped}`)).toBe(false);
    expect(await verify('not-a-jwt')).toBe(false);
  });

  it('rejects a token for another audience the provider signed', async () => {
    const jwt = await tokenFor('crisp-athena-qa');
    expect(await verifierFor('crisp-athena-qa')(jwt)).toBe(true);
    expect(await verifierFor('crisp-athena-live')(jwt)).toBe(false);
  });

  it('rejects a token from another issuer', async () => {
    const jwt = await tokenFor('crisp-athena-live');
    const verify = jwtVerifier({
      jwksUrl: auth.jwksUrl,
      issuer: 'https://crispthinking.auth0.com/',
      audience: 'crisp-athena-live',
    });
    expect(await verify(jwt)).toBe(false);
  });
});
