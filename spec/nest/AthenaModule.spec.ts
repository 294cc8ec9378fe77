import 'reflect-metadata';
import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { firstValueFrom, map, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassificationInput, ImageFormat, RequestEncoding } from '../../src/generated/athena/models.js';
import { ATHENA_TOKEN_SOURCE, AthenaModule } from '../../src/nest/AthenaModule.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import { staticToken } from '../../src/transport/staticToken.js';

const SIDE = 448;

function solidBgr(b: number, g: number, r: number): Uint8Array {
  const data = new Uint8Array(SIDE * SIDE * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = b;
    data[i + 1] = g;
    data[i + 2] = r;
  }
  return data;
}

@Injectable()
class ModerationService {
  constructor(@Inject(AthenaClient) private readonly client: AthenaClient) {}

  topLabel(data: Uint8Array): Observable<string> {
    const input = ClassificationInput.fromPartial({
      affiliate: 'acme',
      correlationId: 'nest-1',
      encoding: RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED,
      format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    });
    return this.client.classifySingle(input).pipe(
      map((output) => {
        const best = output.classifications
          .filter((c) => !/Entropy|PCSAM/.test(c.label))
          .sort((a, b) => b.weight - a.weight)[0];
        return best?.label ?? 'none';
      }),
    );
  }
}

describe('AthenaModule', () => {
  let server: AthenaServer;

  beforeAll(async () => {
    server = await startAthenaServer({ auth: { tokens: ['nest-token'] } });
  });

  afterAll(async () => {
    await server.close();
  });

  it('injects a client that classifies through a service returning an Observable', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AthenaModule.forRoot({
          address: server.address,
          insecure: true,
          credentials: staticToken('nest-token'),
        }),
      ],
      providers: [ModerationService],
    }).compile();
    const app = await moduleRef.init();
    const service = app.get(ModerationService);
    const sky = await firstValueFrom(service.topLabel(solidBgr(235, 206, 135)));
    const forest = await firstValueFrom(service.topLabel(solidBgr(34, 139, 34)));
    expect(sky).toMatch(/^UnknownCSAM-/);
    expect(forest).toMatch(/^UnknownCSAM-/);
    expect(server.counters.unaryCalls).toBeGreaterThanOrEqual(2);
    expect(app.get(ATHENA_TOKEN_SOURCE)).toBeDefined();

    const client = app.get(AthenaClient);
    await app.close();
    await expect(firstValueFrom(client.listDeployments())).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('builds the client from an async factory with injected configuration', async () => {
    const CONFIG = Symbol('config');
    @Module({ providers: [{ provide: CONFIG, useValue: { address: server.address } }], exports: [CONFIG] })
    class ConfigModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [
        AthenaModule.forRootAsync({
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: async (config: { address: string }) => ({
            address: config.address,
            insecure: true,
            credentials: staticToken('nest-token'),
          }),
        }),
      ],
    }).compile();
    const app = await moduleRef.init();
    const client = app.get(AthenaClient);
    expect(client.address).toBe(server.address);
    await expect(firstValueFrom(client.listDeployments())).resolves.toBeInstanceOf(Array);
    await app.close();
  });

  it('refuses a wrong token through the injected client', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AthenaModule.forRoot({ address: server.address, insecure: true, credentials: staticToken('wrong') }),
      ],
    }).compile();
    const app = await moduleRef.init();
    await expect(firstValueFrom(app.get(AthenaClient).listDeployments())).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    await app.close();
  });
});
