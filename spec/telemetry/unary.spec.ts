/**
 * `AthenaClient`'s unary calls recorded by the OpenTelemetry SDK against the embedded server: a span
 * per `ClassifySingle` and `ListDeployments` call with the RPC attributes and final status code, and
 * the call, attempt, token and payload metrics, one point per call made.
 */
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassificationInput, ImageFormat } from '../../src/generated/athena/models.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/index.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import { staticToken } from '../../src/transport/staticToken.js';
import { sdk } from '../support/otel.js';

const RAW_BYTES = 448 * 448 * 3;
const raw = (correlationId: string): ClassificationInput =>
  ClassificationInput.create({
    affiliate: 'acme',
    correlationId,
    format: ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR,
    data: Buffer.alloc(RAW_BYTES, 9),
  });

let server: AthenaServer;
let port: number;

beforeAll(async () => {
  server = await startAthenaServer({ seed: 3 });
  port = Number(server.address.split(':').pop());
});

afterAll(async () => {
  await server.close();
});

describe('AthenaClient telemetry', () => {
  it('records a span per ClassifySingle and ListDeployments call, with their metrics', async () => {
    const otel = sdk();
    const client = new AthenaClient({
      address: server.address,
      insecure: true,
      credentials: staticToken('not-a-real-token'),
      tracerProvider: otel.tracerProvider,
      meterProvider: otel.meterProvider,
    });
    try {
      const output = await firstValueFrom(client.classifySingle(raw('otel-single-1')));
      expect(output.correlationId).toBe('otel-single-1');
      await firstValueFrom(client.classifySingle(raw('otel-single-2')));
      await firstValueFrom(client.listDeployments());
      server.setFaults({ unavailableForMs: 60_000 });
      const refused = await firstValueFrom(client.listDeployments()).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'UNAVAILABLE' });
      server.clearFaults();

      const spans = otel.spans();
      expect(spans.map((s) => s.name)).toEqual([
        'athena.ClassifierService/ClassifySingle',
        'athena.ClassifierService/ClassifySingle',
        'athena.ClassifierService/ListDeployments',
        'athena.ClassifierService/ListDeployments',
      ]);
      for (const span of spans) {
        expect(span.kind).toBe(2);
        expect(span.attributes).toMatchObject({
          'rpc.system': 'grpc',
          'rpc.service': 'athena.ClassifierService',
          'server.address': '127.0.0.1',
          'server.port': port,
        });
        expect(span.attributes['rpc.method']).toBe(span.name.split('/')[1]);
      }
      expect(spans.map((s) => s.attributes['rpc.grpc.status_code'])).toEqual([0, 0, 0, 14]);
      expect(spans[3]?.status).toEqual({ code: 2, message: 'UNAVAILABLE' });
      expect(spans[0]?.status.code).toBe(0);
      // Nothing of the token reaches a span.
      expect(JSON.stringify(spans.map((s) => [s.attributes, s.events, s.status]))).not.toContain(
        'not-a-real-token',
      );

      const single = await otel.points('athena.client.classify_single.duration');
      expect(single.map((p) => [p.attributes['rpc.grpc.status_code'], p.count])).toEqual([[0, 2]]);
      const payload = await otel.points('athena.client.request.payload_size');
      expect(payload.map((p) => [p.count, p.value])).toEqual([[2, 2 * RAW_BYTES]]);
      const rpc = await otel.points('athena.client.rpc.duration');
      const byCall = rpc.map((p) => [
        p.attributes['rpc.method'],
        p.attributes['rpc.grpc.status_code'],
        p.count,
      ]);
      expect(byCall).toEqual(
        expect.arrayContaining([
          ['ClassifySingle', 0, 2],
          ['ListDeployments', 0, 1],
        ]),
      );
      // A call that waited for the token recorded the wait: one point per call that got one.
      const auth = await otel.points('athena.client.auth.duration');
      expect(auth.reduce((n, p) => n + (p.count ?? 0), 0)).toBeGreaterThanOrEqual(3);
    } finally {
      client.close();
      await otel.shutdown();
    }
  });

  it('refuses a tracer provider that is not one when the client is created', () => {
    expect(
      () => new AthenaClient({ address: server.address, insecure: true, tracerProvider: {} as never }),
    ).toThrow(TypeError);
  });
});
