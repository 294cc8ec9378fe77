import { firstValueFrom, interval, lastValueFrom, map, Subject, take, takeUntil, timer, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/errors.js';
import {
  ClassificationInput,
  ClassifyRequest,
  ImageFormat,
  RequestEncoding,
  type ClassifyResponse,
} from '../../src/generated/athena/models.js';
import { jwtVerifier, startAthenaServer, type AthenaServer } from '../../src/testing/index.js';
import { AthenaClient, clientCredentials, staticToken } from '../../src/transport/index.js';
import { startOidcProvider, type OidcProviderHandle } from '../support/oidc.js';

const RAW = Buffer.alloc(448 * 448 * 3, 120);

function input(id: string): ClassificationInput {
  return ClassificationInput.fromPartial({
    affiliate: 'acme',
    correlationId: id,
    encoding: RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED,
    format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
    data: RAW,
  });
}

describe('OAuth client credentials end to end (oidc-provider, embedded server, AthenaClient)', () => {
  let auth: OidcProviderHandle;
  let other: OidcProviderHandle;
  let server: AthenaServer;
  const accepted = new Set<string>();

  beforeAll(async () => {
    auth = await startOidcProvider({ accessTokenTtlSec: 2 });
    other = await startOidcProvider({ accessTokenTtlSec: 60 });
    const verify = jwtVerifier({ jwksUrl: auth.jwksUrl, issuer: auth.issuer, audience: auth.audience });
    server = await startAthenaServer({
      auth: {
        verify: async (token) => {
          const ok = await verify(token);
          if (ok) accepted.add(token);
          return ok;
        },
      },
    });
  }, 30_000);

  afterAll(async () => {
    await server?.close();
    await auth?.close();
    await other?.close();
  });

  it('keeps a stream and repeated unary calls working across three token lifetimes', async () => {
    const client = new AthenaClient({
      address: server.address,
      insecure: true,
      credentials: clientCredentials(auth.credentials()),
    });
    try {
      const lifetimeMs = auth.accessTokenTtlSec * 1000;
      const runMs = lifetimeMs * 3 + 600;
      const requests = new Subject<ClassifyRequest>();
      const responses = lastValueFrom(client.classifyStream('oauth-run', requests).pipe(take(12), toArray()));
      const unary = lastValueFrom(
        interval(runMs / 12).pipe(
          take(12),
          map((n) => {
            requests.next(
              ClassifyRequest.fromPartial({ deploymentId: 'oauth-run', inputs: [input(`img-${n}`)] }),
            );
            return n;
          }),
          // A fresh unary call for every tick, each needing a currently valid token.
          map(() => firstValueFrom(client.listDeployments())),
          toArray(),
        ),
      );
      const calls = await Promise.all(await unary);
      const answered: ClassifyResponse[] = await responses;
      requests.complete();

      expect(calls).toHaveLength(12);
      const ids = answered.flatMap((r) => r.outputs.map((o) => o.correlationId)).sort();
      expect(ids).toHaveLength(12);
      expect(answered.every((r) => r.outputs.every((o) => o.error === undefined))).toBe(true);
      // Calls spread over three lifetimes were authorised by at least three different tokens.
      expect(accepted.size).toBeGreaterThanOrEqual(3);
    } finally {
      client.close();
    }
  }, 30_000);

  it.each([
    ['a wrong secret', { clientSecret: 'not-the-secret' }],
    ['an unknown client', { clientId: 'nobody' }],
    ['a wrong audience', { audience: 'crisp-athena-elsewhere' }],
  ])(
    'fails fast with an OAuthError for %s, before any RPC',
    async (_case, overrides) => {
      const before = server.counters.unaryCalls;
      const client = new AthenaClient({
        address: server.address,
        insecure: true,
        credentials: clientCredentials({ ...auth.credentials(), ...overrides }),
      });
      try {
        const error: unknown = await firstValueFrom(client.listDeployments()).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(OAuthError);
        expect(String((error as Error).message)).not.toContain('not-the-secret');
        expect(server.counters.unaryCalls).toBe(before);
      } finally {
        client.close();
      }
    },
    20_000,
  );

  it('refuses an expired token and a token from another issuer with UNAUTHENTICATED', async () => {
    const expired = await firstValueFrom(clientCredentials(auth.credentials()));
    const foreign = await firstValueFrom(clientCredentials(other.credentials()));
    await lastValueFrom(timer(auth.accessTokenTtlSec * 1000 + 1200));
    for (const token of [expired, foreign]) {
      const client = new AthenaClient({
        address: server.address,
        insecure: true,
        credentials: staticToken(token),
      });
      try {
        await expect(firstValueFrom(client.listDeployments())).rejects.toMatchObject({
          code: 'UNAUTHENTICATED',
        });
        await expect(
          lastValueFrom(
            client.classifyStream(
              'oauth-refused',
              new Subject<ClassifyRequest>().pipe(takeUntil(timer(2000))),
            ),
          ),
        ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      } finally {
        client.close();
      }
    }
  }, 20_000);
});
