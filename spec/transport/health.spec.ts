import { NEVER, VirtualTimeScheduler, firstValueFrom, of, throwError } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { ErrorCode } from '../../src/generated/athena/models.js';
import { jwtVerifier, startAthenaServer, type AthenaServer } from '../../src/testing/index.js';
import { AthenaClient, type AthenaClientOptions } from '../../src/transport/AthenaClient.js';
import { clientCredentials } from '../../src/transport/clientCredentials.js';
import { checkHealth, type HealthCheckTarget, type HealthReport } from '../../src/transport/health.js';
import { staticToken } from '../../src/transport/staticToken.js';
import { freeLoopbackPort, listenOnLoopback } from '../support/http-server.js';
import { startOidcProvider, type OidcProviderHandle } from '../support/oidc.js';

const TOKEN = 'health-spec-token';
let auth: OidcProviderHandle;
let server: AthenaServer;
const clients: AthenaClient[] = [];
const servers: Array<{ close(): Promise<void> | void }> = [];

const client = (options: AthenaClientOptions) => {
  const made = new AthenaClient({ insecure: true, connectTimeoutMs: 5_000, ...options });
  clients.push(made);
  return made;
};
const check = (target: HealthCheckTarget, deep = false): Promise<HealthReport> =>
  firstValueFrom(checkHealth(target, { deep, timeoutMs: 15_000 }));

beforeAll(async () => {
  auth = await startOidcProvider({ accessTokenTtlSec: 60 });
  const verify = jwtVerifier({ jwksUrl: auth.jwksUrl, issuer: auth.issuer, audience: auth.audience });
  server = await startAthenaServer({ auth: { tokens: [TOKEN], verify: (token) => verify(token) } });
});
afterAll(async () => {
  await server.close();
  await auth.close();
});
afterEach(async () => {
  for (const made of clients.splice(0)) made.close();
  for (const made of servers.splice(0)) await made.close();
});

describe('checkHealth against the embedded server', () => {
  it('reports a healthy service with a token from a real OAuth issuer, each part with its latency', async () => {
    const report = await check(
      client({ address: server.address, credentials: clientCredentials(auth.credentials()) }),
    );
    expect(report.healthy).toBe(true);
    expect(report.address).toBe(server.address);
    expect(report.connection).toMatchObject({ status: 'up' });
    expect(report.token).toMatchObject({ status: 'up' });
    expect(report.token.expiresAt).toBeGreaterThan(Date.now());
    expect(report.connection.latencyMs).toBeGreaterThanOrEqual(0);
    expect(report.token.latencyMs).toBeGreaterThanOrEqual(0);
    expect(report.latencyMs).toBeGreaterThanOrEqual(
      Math.max(report.connection.latencyMs ?? 0, report.token.latencyMs ?? 0),
    );
    expect(report.classify).toMatchObject({ status: 'skipped' });
    expect(JSON.stringify(report)).not.toContain(auth.clientSecret);
  });

  it('deep: classifies the built-in image with one ClassifySingle call and checks the answer', async () => {
    const before = server.counters.classifySingleCalls;
    const report = await check(client({ address: server.address, credentials: staticToken(TOKEN) }), true);
    expect(report.healthy).toBe(true);
    expect(report.deep).toBe(true);
    expect(report.classify.status).toBe('up');
    expect(report.classify.labels).toBeGreaterThan(0);
    expect(server.counters.classifySingleCalls).toBe(before + 1);
  });

  it('without credentials the token part is skipped, not down', async () => {
    const open = await startAthenaServer();
    servers.push(open);
    const report = await check(client({ address: open.address }));
    expect(report.healthy).toBe(true);
    expect(report.token).toEqual({ status: 'skipped', message: 'no credentials configured' });
  });

  it('reports the token endpoint down (HTTP 500) while the channel is up, without the secret', async () => {
    const failing = await listenOnLoopback((_request, response) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('token service broken');
    });
    servers.push(failing);
    const secret = 'health-spec-client-secret-value';
    const credentials = clientCredentials({
      tokenUrl: `${failing.base}/oauth/token`,
      clientId: 'health',
      clientSecret: secret,
      retry: { maxAttempts: 1 },
    });
    const report = await check(client({ address: server.address, credentials }), true);
    expect(report.healthy).toBe(false);
    expect(report.connection.status).toBe('up');
    expect(report.token.status).toBe('down');
    expect(report.token.code).toBe('OAUTH_ERROR');
    expect(report.classify).toMatchObject({ status: 'skipped' });
    expect(JSON.stringify(report)).not.toContain(secret);
  });

  it('reports a token source that errors as the token part down', async () => {
    const credentials = throwError(() => new AthenaError('OAUTH_ERROR', 'issuer refused the client'));
    const report = await check(client({ address: server.address, credentials }));
    expect(report.healthy).toBe(false);
    expect(report.connection.status).toBe('up');
    expect(report.token).toMatchObject({
      status: 'down',
      code: 'OAUTH_ERROR',
      message: 'issuer refused the client',
    });
  });

  it('reports a service nobody listens on as the connection down, and skips the deep check', async () => {
    const report = await check(client({ address: `127.0.0.1:${await freeLoopbackPort()}` }), true);
    expect(report.healthy).toBe(false);
    expect(report.connection).toMatchObject({ status: 'down', code: 'UNAVAILABLE' });
    expect(report.classify).toMatchObject({ status: 'skipped' });
  });

  it('deep: a service answering errors is unhealthy though it connects and takes the token', async () => {
    const faulty = await startAthenaServer({
      auth: { tokens: [TOKEN] },
      faults: { errorRate: 1, errorCode: ErrorCode.ERROR_CODE_MODEL_ERROR },
    });
    servers.push(faulty);
    const report = await check(client({ address: faulty.address, credentials: staticToken(TOKEN) }), true);
    expect(report.healthy).toBe(false);
    expect(report.connection.status).toBe('up');
    expect(report.token.status).toBe('up');
    expect(report.classify).toMatchObject({ status: 'down', code: 'MODEL_ERROR' });
    // The same service passes the shallow check: only the deep one sees the errors.
    expect((await check(client({ address: faulty.address, credentials: staticToken(TOKEN) }))).healthy).toBe(
      true,
    );
  });

  it('reports a closed client as down (CLOSED) instead of throwing', async () => {
    const closed = client({ address: server.address, credentials: staticToken(TOKEN) });
    closed.close();
    const report = await check(closed, true);
    expect(report.healthy).toBe(false);
    expect(report.connection).toMatchObject({ status: 'down', code: 'CLOSED' });
    expect(report.token).toMatchObject({ status: 'down', code: 'CLOSED' });
  });

  it('deep: a refused affiliate is down with its code', async () => {
    const strict = await startAthenaServer({ affiliates: ['acme'] });
    servers.push(strict);
    const target = client({ address: strict.address });
    const refused = await firstValueFrom(checkHealth(target, { deep: true, affiliate: 'other' }));
    expect(refused.classify).toMatchObject({ status: 'down', code: 'AFFILIATE_NOT_PERMITTED' });
    const allowed = await firstValueFrom(checkHealth(target, { deep: true, affiliate: 'acme' }));
    expect(allowed.healthy).toBe(true);
  });
});

describe('checkHealth bounds and arguments', () => {
  const fake = (over: Partial<HealthCheckTarget>): HealthCheckTarget => ({
    address: '127.0.0.1:1',
    probeConnection: () => of(undefined),
    probeToken: () => of({ expiresAt: 42 }),
    classifySingle: () => NEVER,
    ...over,
  });

  it('ends within timeoutMs on virtual time when a part never answers', () => {
    const scheduler = new VirtualTimeScheduler();
    const reports: HealthReport[] = [];
    let completed = false;
    checkHealth(fake({ probeToken: () => NEVER }), { timeoutMs: 3_000, scheduler }).subscribe({
      next: (report) => reports.push(report),
      complete: () => (completed = true),
    });
    scheduler.flush();
    expect(completed).toBe(true);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.token).toMatchObject({ status: 'down', code: 'DEADLINE_EXCEEDED', latencyMs: 3_000 });
    expect(reports[0]?.connection).toMatchObject({ status: 'up', latencyMs: 0 });
    expect(reports[0]?.healthy).toBe(false);
  });

  it('gives the deep check only the time the shallow parts left', () => {
    const scheduler = new VirtualTimeScheduler();
    const reports: HealthReport[] = [];
    checkHealth(fake({}), { deep: true, timeoutMs: 2_000, scheduler }).subscribe((r) => reports.push(r));
    scheduler.flush();
    expect(reports[0]?.classify).toMatchObject({
      status: 'down',
      code: 'DEADLINE_EXCEEDED',
      latencyMs: 2_000,
    });
    expect(reports[0]?.latencyMs).toBe(2_000);
  });

  it('reports a malformed answer (another correlation id) as down', async () => {
    const report = await firstValueFrom(
      checkHealth(
        fake({
          classifySingle: () =>
            of({
              correlationId: 'someone-else',
              classifications: [{ label: 'x', weight: 0.5 }],
              error: undefined,
            }),
        }),
        { deep: true },
      ),
    );
    expect(report.classify).toMatchObject({ status: 'down', code: 'UNKNOWN' });
    expect(report.classify.message).toContain('correlation id');
    const negative = await firstValueFrom(
      checkHealth(
        fake({
          classifySingle: (input) =>
            of({
              correlationId: input.correlationId,
              classifications: [{ label: 'x', weight: -1 }],
              error: undefined,
            }),
        }),
        { deep: true },
      ),
    );
    expect(negative.classify).toMatchObject({ status: 'down', code: 'UNKNOWN' });
    const fine = await firstValueFrom(
      checkHealth(
        fake({
          classifySingle: (input) =>
            of({
              correlationId: input.correlationId,
              classifications: [{ label: 'x', weight: 1.4 }],
              error: undefined,
            }),
        }),
        { deep: true },
      ),
    );
    expect(fine.classify).toMatchObject({ status: 'up', labels: 1 });
  });

  it('validates its arguments when called', () => {
    expect(() => checkHealth({} as HealthCheckTarget)).toThrow(TypeError);
    expect(() => checkHealth(fake({}), { timeoutMs: 0 })).toThrow(RangeError);
    expect(() => checkHealth(fake({}), { affiliate: '' })).toThrow(RangeError);
  });
});
