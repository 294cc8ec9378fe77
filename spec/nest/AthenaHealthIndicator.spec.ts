import 'reflect-metadata';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AthenaModule } from '../../src/nest/AthenaModule.js';
import { AthenaHealthIndicator, type AthenaHealthCheckError } from '../../src/nest/index.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import { staticToken } from '../../src/transport/staticToken.js';
import type { AthenaClientOptions } from '../../src/transport/AthenaClient.js';
import { freeLoopbackPort } from '../support/http-server.js';

const TOKEN = 'nest-health-token';
let server: AthenaServer;
let faulty: AthenaServer;
const modules: TestingModule[] = [];

async function indicatorFor(options: AthenaClientOptions): Promise<AthenaHealthIndicator> {
  const moduleRef = await Test.createTestingModule({
    imports: [AthenaModule.forRoot({ insecure: true, connectTimeoutMs: 5_000, ...options })],
  }).compile();
  await moduleRef.init();
  modules.push(moduleRef);
  return moduleRef.get(AthenaHealthIndicator);
}

beforeAll(async () => {
  server = await startAthenaServer({ auth: { tokens: [TOKEN] } });
  faulty = await startAthenaServer({ faults: { errorRate: 1 } });
});
afterAll(async () => {
  await server.close();
  await faulty.close();
});
afterEach(async () => {
  for (const moduleRef of modules.splice(0)) await moduleRef.close();
});

describe('AthenaHealthIndicator in a Nest testing module', () => {
  it('is provided by AthenaModule and reports up under the key, with the parts of the report', async () => {
    const indicator = await indicatorFor({ address: server.address, credentials: staticToken(TOKEN) });
    const result = await indicator.isHealthy('athena', { deep: true });
    expect(Object.keys(result)).toEqual(['athena']);
    expect(result.athena).toMatchObject({
      status: 'up',
      address: server.address,
      deep: true,
      connection: { status: 'up' },
      token: { status: 'up' },
      classify: { status: 'up' },
    });
    expect(JSON.stringify(result)).not.toContain(TOKEN);
    await expect(indicator.assertHealthy('athena')).resolves.toMatchObject({ athena: { status: 'up' } });
  });

  it('reports down without throwing when nothing listens, and assertHealthy throws with causes', async () => {
    const port = await freeLoopbackPort();
    const indicator = await indicatorFor({ address: `127.0.0.1:${port}` });

    const result = await indicator.isHealthy('grpc');
    expect(result.grpc).toMatchObject({
      status: 'down',
      connection: { status: 'down', code: 'UNAVAILABLE' },
    });

    const error = (await indicator.assertHealthy('grpc').catch((e: unknown) => e)) as AthenaHealthCheckError;
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.isHealthCheckError).toBe(true);
    expect(error.causes).toMatchObject({ grpc: { status: 'down' } });
  });

  it('reports down on a deep check of a service that answers errors, up on the shallow one', async () => {
    const indicator = await indicatorFor({ address: faulty.address });
    expect((await indicator.isHealthy('athena', { deep: true })).athena).toMatchObject({
      status: 'down',
      classify: { status: 'down', code: 'MODEL_ERROR' },
    });
    expect((await indicator.isHealthy()).athena.status).toBe('up');
  });
});
