import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAthenaServer, type AthenaServer } from '../../src/testing/index.js';
import type { HealthReport } from '../../src/transport/health.js';
import { runCli } from '../support/cli.js';
import { freeLoopbackPort, listenOnLoopback, type LoopbackServer } from '../support/http-server.js';

describe('athena-rx health (built binary)', () => {
  let faulty: AthenaServer;
  let tokenEndpoint: LoopbackServer;

  beforeAll(async () => {
    faulty = await startAthenaServer({ faults: { errorRate: 1 } });
    tokenEndpoint = await listenOnLoopback((_request, response) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('token service broken');
    });
  });
  afterAll(async () => {
    await faulty?.close();
    await tokenEndpoint?.close();
  });

  it('exits 0 and prints each part for a healthy service (--local, --deep)', async () => {
    const run = await runCli(['health', '--local', '--deep']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^127\.0\.0\.1:\d+: healthy \(deep check, \d+ ms\)$/m);
    expect(run.stdout).toMatch(/^ {2}connection +up +\d+ ms$/m);
    expect(run.stdout).toMatch(/^ {2}token +skipped +no credentials configured$/m);
    expect(run.stdout).toMatch(/^ {2}classify +up +\d+ ms +\d+ labels$/m);
  });

  it('exits 1 when nothing listens at the address, naming UNAVAILABLE', async () => {
    const port = await freeLoopbackPort();
    const run = await runCli(['health', '--insecure', '--address', `127.0.0.1:${port}`, '--format', 'json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as HealthReport;
    expect(report).toMatchObject({ healthy: false, connection: { status: 'down', code: 'UNAVAILABLE' } });
  });

  it('exits 1 on --deep against a service that answers errors, 0 on the shallow check', async () => {
    const args = ['health', '--insecure', '--address', faulty.address, '--format', 'json'];
    const deep = await runCli([...args, '--deep']);
    expect(deep.code).toBe(1);
    expect(JSON.parse(deep.stdout)).toMatchObject({
      healthy: false,
      classify: { status: 'down', code: 'MODEL_ERROR' },
    });
    const shallow = await runCli(args);
    expect(shallow.code).toBe(0);
    expect(JSON.parse(shallow.stdout)).toMatchObject({ healthy: true, classify: { status: 'skipped' } });
  });

  it('exits 1 when the token endpoint fails, without printing the client secret', async () => {
    const secret = 'cli-health-secret-value';
    const run = await runCli(['health', '--insecure', '--address', faulty.address, '--timeout', '5000'], {
      ATHENA_CLIENT_ID: 'health',
      ATHENA_CLIENT_SECRET: secret,
      ATHENA_TOKEN_URL: `${tokenEndpoint.base}/oauth/token`,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/unhealthy/);
    expect(run.stdout).toMatch(/^ {2}connection +up/m);
    expect(run.stdout).toMatch(/^ {2}token +down +\d+ ms +[A-Z_]+: /m);
    expect(run.stdout + run.stderr).not.toContain(secret);
  });
});
