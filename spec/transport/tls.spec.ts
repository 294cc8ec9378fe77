import { firstValueFrom } from 'rxjs';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { ClassificationInput, ImageFormat } from '../../src/generated/athena/models.js';
import { type AthenaServer, startAthenaServer } from '../../src/testing/server.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import { staticToken } from '../../src/transport/staticToken.js';

let server: AthenaServer;
let cert: string;
const clients: AthenaClient[] = [];
const client = (options: ConstructorParameters<typeof AthenaClient>[0]) => {
  const made = new AthenaClient({ connectTimeoutMs: 3_000, ...options });
  clients.push(made);
  return made;
};

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: 'athena-rx test server' }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + 24 * 3_600_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  cert = pems.cert;
  server = await startAthenaServer({ tls: { key: pems.private, cert }, auth: { tokens: ['tls-token'] } });
});
afterAll(async () => {
  for (const made of clients) made.close();
  await server.close();
});

describe('AthenaClient over TLS', () => {
  it('trusts the server through rootCerts and sends the token (127.0.0.1 and localhost)', async () => {
    for (const address of [server.address, `localhost:${server.port}`]) {
      const athena = client({ address, rootCerts: cert, credentials: staticToken('tls-token') });
      await expect(firstValueFrom(athena.listDeployments())).resolves.toEqual(expect.any(Array));
      const output = await firstValueFrom(
        athena.classifySingle(
          ClassificationInput.create({
            affiliate: 'acme',
            correlationId: 'tls-1',
            format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
            data: Buffer.alloc(448 * 448 * 3, 90),
          }),
        ),
      );
      expect(output.correlationId).toBe('tls-1');
    }
  });

  it('is refused UNAUTHENTICATED with a wrong token over TLS', async () => {
    const athena = client({ address: server.address, rootCerts: cert, credentials: staticToken('not-it') });
    await expect(firstValueFrom(athena.listDeployments())).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      status: 16,
    });
  });

  it('fails fast, typed UNAVAILABLE with the reason, when it does not trust the certificate', async () => {
    server.resetCounters();
    const athena = client({ address: server.address, credentials: staticToken('tls-token') });
    const started = Date.now();
    const error = await firstValueFrom(athena.listDeployments()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AthenaError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', status: 14 });
    expect((error as AthenaError).details).toMatch(/certificate/i);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(server.counters.unaryCalls).toBe(0);
  });

  it('does not speak plaintext to a TLS server', async () => {
    const athena = client({ address: server.address, insecure: true, defaultDeadlineMs: 2_000 });
    await expect(firstValueFrom(athena.listDeployments())).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      status: 14,
    });
  });
});
