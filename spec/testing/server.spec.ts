import { credentials, status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { generate } from 'selfsigned';
import { ImageFormat, RequestEncoding } from '../../src/generated/athena/models.js';
import { BENIGN_LABELS, ENTROPY_LABEL, PCSAM_LABEL } from '../../src/testing/labels.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import {
  classifySingle,
  connect,
  FOREST_GREEN,
  listDeployments,
  openStream,
  rawInput,
  refusal,
  request,
  solidPng,
  until,
  weightOf,
} from './helpers.js';

let server: AthenaServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('startAthenaServer', () => {
  it('binds 127.0.0.1 on an ephemeral port, plaintext', async () => {
    server = await startAthenaServer();
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    expect(server.tls).toBe(false);
  });

  it('rejects bad options before binding', async () => {
    await expect(startAthenaServer({ port: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(startAthenaServer({ outputTtlMs: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(startAthenaServer({ faults: { errorRate: 2 } })).rejects.toBeInstanceOf(RangeError);
    await expect(startAthenaServer({ affiliates: 'acme' as never })).rejects.toBeInstanceOf(TypeError);
    await expect(startAthenaServer({ tls: { key: '', cert: '' } })).rejects.toBeInstanceOf(TypeError);
  });

  it('Classify answers every input of a batch in order, with the benign labels', async () => {
    server = await startAthenaServer();
    const client = connect(server.address);
    const stream = openStream(client);
    const ids = ['a', 'b', 'c', 'd'];
    stream.send(
      request(
        'dep',
        ids.map((id) => rawInput(id)),
      ),
    );
    const outputs = await stream.waitForOutputs(4);
    expect(outputs.map((o) => o.correlationId)).toEqual(ids);
    for (const o of outputs) {
      expect(o.error).toBeUndefined();
      const labels = o.classifications.map((c) => c.label);
      expect(labels).toEqual([...BENIGN_LABELS, ENTROPY_LABEL, PCSAM_LABEL]);
      const sum = BENIGN_LABELS.reduce((a, l) => a + (weightOf(o, l) ?? 0), 0);
      expect(sum).toBeCloseTo(1, 4);
    }
    stream.call.end();
    expect((await stream.ended).code).toBe(status.OK);
    expect(server.counters).toMatchObject({
      streamsOpened: 1,
      requests: 1,
      inputs: 4,
      outputs: 4,
      responses: 1,
    });
    client.close();
  });

  it('ClassifySingle answers one PNG and reports errors inside the output', async () => {
    server = await startAthenaServer();
    const client = connect(server.address);
    const png = await solidPng(FOREST_GREEN);
    const ok = await classifySingle(
      client,
      rawInput('one', {
        data: png,
        format: ImageFormat.IMAGE_FORMAT_PNG,
        encoding: RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED,
      }),
    );
    expect(ok.correlationId).toBe('one');
    expect(ok.error).toBeUndefined();
    expect(weightOf(ok, 'UnknownCSAM-Trees')).toBeGreaterThan(0.3);
    const bad = await classifySingle(client, rawInput('two', { affiliate: '' }));
    expect(bad.error?.code).toBe(4);
    expect(server.counters).toMatchObject({
      unaryCalls: 2,
      classifySingleCalls: 2,
      errorsByCode: { AFFILIATE_NOT_PERMITTED: 1 },
    });
    client.close();
  });

  it('ListDeployments lists deployments with their backlog', async () => {
    server = await startAthenaServer({ faults: { newDeploymentLatencyMs: 300 } });
    const client = connect(server.address);
    expect((await listDeployments(client)).deployments).toEqual([]);
    const stream = openStream(client);
    stream.send(request('busy', [rawInput('1'), rawInput('2'), rawInput('3')]));
    await until(() => server!.deployments()[0]?.inFlight === 3);
    const during = await listDeployments(client);
    expect(during.deployments.map((d) => [d.deploymentId, d.backlog])).toEqual([['busy', 3]]);
    await stream.waitForOutputs(3);
    const after = await listDeployments(client);
    expect(after.deployments.map((d) => [d.deploymentId, d.backlog])).toEqual([['busy', 0]]);
    expect(server.counters.listDeploymentsCalls).toBe(3);
    stream.call.end();
    client.close();
  });

  it('counts empty requests as keepalives and never answers them', async () => {
    server = await startAthenaServer();
    const client = connect(server.address);
    const stream = openStream(client);
    stream.send(request('dep', []));
    stream.send(request('dep', []));
    stream.send(request('dep', [rawInput('x')]));
    await stream.waitForOutputs(1);
    stream.call.end();
    await stream.ended;
    expect(stream.responses).toHaveLength(1);
    expect(server.counters).toMatchObject({ keepalives: 2, requests: 1, inputs: 1, outputs: 1 });
    client.close();
  });

  it('receives a batch of 50 raw, uncompressed images (about 31 MB)', async () => {
    server = await startAthenaServer();
    const client = connect(server.address);
    const stream = openStream(client);
    const raw = rawInput('x', { encoding: RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED }).data;
    const plain = Array.from({ length: 50 }, (_, i) =>
      rawInput(`img-${i}`, {
        encoding: RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED,
        data: Buffer.alloc(602_112, i),
      }),
    );
    expect(raw.length).toBeLessThan(602_112);
    stream.send(request('big', plain));
    const outputs = await stream.waitForOutputs(50, 10_000);
    expect(outputs.every((o) => o.error === undefined)).toBe(true);
    expect(server.counters.inputBytes).toBe(50 * 602_112);
    stream.call.end();
    client.close();
  });

  it('serves TLS with a given key and certificate', async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    server = await startAthenaServer({ tls: { key: pems.private, cert: pems.cert } });
    expect(server.tls).toBe(true);
    const client = connect(server.address, credentials.createSsl(Buffer.from(pems.cert)), {
      'grpc.ssl_target_name_override': 'localhost',
    });
    expect((await listDeployments(client)).deployments).toEqual([]);
    const plain = connect(server.address);
    const e = await refusal(listDeployments(plain));
    expect(e.code).toBe(status.UNAVAILABLE);
    client.close();
    plain.close();
  });

  it('close() ends open streams promptly with UNAVAILABLE and releases the port', async () => {
    server = await startAthenaServer({ faults: { latencyMs: 10_000 } });
    const client = connect(server.address);
    const idle = openStream(client);
    idle.send(request('dep', []));
    const busy = openStream(client);
    busy.send(request('dep', [rawInput('slow')]));
    await until(() => server!.counters.requests === 1 && server!.counters.keepalives === 1);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await idle.ended).code).toBe(status.UNAVAILABLE);
    expect((await busy.ended).code).toBe(status.UNAVAILABLE);
    const again = await startAthenaServer({ port: server.port });
    expect(again.port).toBe(server.port);
    await again.close();
    server = undefined;
    client.close();
  });
});
