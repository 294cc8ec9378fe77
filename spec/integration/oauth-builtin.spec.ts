/**
 * `AthenaClient` with `clientCredentials` against the embedded server's built-in issuer, over TLS
 * on both sides: a classify run spanning more than three token lifetimes, with the streams dropped
 * once a lifetime so that they reopen with whatever token is current.
 */
import { concatMap, firstValueFrom, from, map, of, timer, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../src/operators/classify.js';
import { createSelfSignedTls, type SelfSignedTls } from '../../src/testing/self-signed.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import { clientCredentials } from '../../src/transport/clientCredentials.js';
import { staticToken } from '../../src/transport/staticToken.js';
import type { ClassifyEvent } from '../../src/transport/contracts.js';
import { fetchTrusting, send } from '../support/https.js';
import { inBatches, makeItems, run, trackedScheduler } from './classify.helpers.js';

const TTL_SEC = 2;
const SECRET = 'builtin-spec-secret-77aa';

let tls: SelfSignedTls;
let server: AthenaServer;

beforeAll(async () => {
  tls = await createSelfSignedTls();
  server = await startAthenaServer({
    tls: { key: tls.key, cert: tls.cert },
    auth: { tokens: ['fixed-dev-token'] },
    oauth: { clients: [`rx:${SECRET}`], tokenTtlSec: TTL_SEC },
  });
}, 30_000);

afterAll(async () => {
  await server?.close();
});

const spaced = <T>(values: readonly T[], ms: number): Observable<T> =>
  from(values).pipe(concatMap((v, i) => (i === 0 ? of(v) : timer(ms).pipe(map(() => v)))));

describe('the built-in issuer with AthenaClient', () => {
  it('keeps classifying across more than three token lifetimes, streams reopened, without a failed image', async () => {
    const oauth = server.oauth;
    if (oauth === undefined) throw new Error('the server has no issuer');
    expect(oauth.issuer).toMatch(/^https:/);
    const client = new AthenaClient({
      address: `localhost:${server.port}`,
      rootCerts: tls.ca,
      credentials: clientCredentials({
        tokenUrl: oauth.tokenUrl,
        clientId: 'rx',
        clientSecret: SECRET,
        fetch: fetchTrusting(tls.ca),
      }),
    });
    const issuedBefore = oauth.tokensIssued;
    const unauthenticatedBefore = server.counters.unauthenticated;
    const streamsBefore = server.counters.streamsOpened;
    const lifetimeMs = TTL_SEC * 1000;
    // 24 batches of two, one every 350 ms: at least 8 s, four lifetimes.
    const { items } = makeItems('builtin', 48);
    const gapMs = 350;
    const spanMs = gapMs * 23;
    expect(spanMs).toBeGreaterThan(3 * lifetimeMs + 1000);
    // Drop every open stream once a lifetime (at most four times), and make a fresh unary call
    // each half lifetime: each needs a token valid at that moment.
    const drops = timer(lifetimeMs, lifetimeMs).subscribe((n) => {
      if (n < 4) server.abortStreams();
    });
    const unary: Promise<unknown>[] = [];
    const ticks = timer(0, lifetimeMs / 2).subscribe((n) => {
      if (n < 16) unary.push(firstValueFrom(client.listDeployments()));
    });
    const scheduler = trackedScheduler();
    const events: ClassifyEvent[] = [];
    const started = Date.now();
    try {
      const { outcomes, error } = await run(
        spaced(inBatches(items, 2), gapMs),
        classify(client, {
          deploymentId: `builtin-oauth-${process.pid}`,
          affiliate: 'acme',
          scheduler,
          reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
          events: { next: (e) => events.push(e) },
        }),
        events,
      );
      const elapsed = Date.now() - started;
      drops.unsubscribe();
      ticks.unsubscribe();
      await Promise.all(unary);
      expect(error).toBeUndefined();
      expect(outcomes).toHaveLength(48);
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      expect(elapsed).toBeGreaterThanOrEqual(3 * lifetimeMs);
      expect(unary.length).toBeGreaterThanOrEqual(6);
      // Streams reopened after each drop, and no call was ever refused: every call, stream or unary,
      // carried a token valid when it opened.
      expect(server.counters.streamsOpened - streamsBefore).toBeGreaterThanOrEqual(4);
      expect(server.counters.unauthenticated).toBe(unauthenticatedBefore);
      expect(oauth.tokensIssued - issuedBefore).toBeGreaterThanOrEqual(3);
    } finally {
      drops.unsubscribe();
      ticks.unsubscribe();
      client.close();
    }
  }, 60_000);

  it('still accepts the fixed tokens of auth, and refuses a token of the issuer for another audience', async () => {
    const fixed = new AthenaClient({
      address: `localhost:${server.port}`,
      rootCerts: tls.ca,
      credentials: staticToken('fixed-dev-token'),
    });
    const oauth = server.oauth;
    if (oauth === undefined) throw new Error('the server has no issuer');
    const answer = await send(oauth.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: 'rx',
        client_secret: SECRET,
        audience: 'crisp-athena-dev',
      }),
      ca: tls.ca,
    });
    const other = new AthenaClient({
      address: `localhost:${server.port}`,
      rootCerts: tls.ca,
      credentials: staticToken(answer.json()['access_token'] as string),
    });
    try {
      await expect(firstValueFrom(fixed.listDeployments())).resolves.toEqual(expect.any(Array));
      await expect(firstValueFrom(other.listDeployments())).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
    } finally {
      fixed.close();
      other.close();
    }
  }, 30_000);

  it('closes the issuer with the server', async () => {
    const own = await startAthenaServer({ oauth: { clients: ['a:b'] } });
    const tokenUrl = own.oauth?.tokenUrl ?? '';
    expect(tokenUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/token$/);
    expect((await send(tokenUrl)).status).toBe(405);
    await own.close();
    await expect(send(tokenUrl)).rejects.toThrow(/ECONNREFUSED/);
  });
});
