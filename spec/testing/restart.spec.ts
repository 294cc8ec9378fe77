import { status } from '@grpc/grpc-js';
import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import {
  classifySingle,
  connect,
  listDeployments,
  openStream,
  rawInput,
  refusal,
  request,
  until,
} from './helpers.js';

let server: AthenaServer | undefined;
const clients: AthenaClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});
const athenaClient = (address: string) => {
  const c = new AthenaClient({ address, insecure: true, connectTimeoutMs: 3_000 });
  clients.push(c);
  return c;
};

describe('stop, start and restart', () => {
  it('a graceful stop ends streams with a status, lets unary calls finish, and keeps queued outputs', async () => {
    server = await startAthenaServer({ faults: { latencyMs: 300 } });
    const port = server.port;
    const raw = connect(server.address);
    const stream = openStream(raw);
    stream.send(request('kept', [rawInput('k1')]));
    await until(() => server!.deployments()[0]?.inFlight === 1);
    const slow = classifySingle(raw, rawInput('slow'));
    await until(() => server!.counters.classifySingleCalls === 1);

    await server.stop({ graceMs: 2_000 });
    expect(server.listening).toBe(false);
    const ended = await stream.ended;
    expect([ended.code, ended.details]).toEqual([status.UNAVAILABLE, 'Server shutting down']);
    expect((await slow).error).toBeUndefined();
    await until(() => server!.deployments()[0]?.queued === 1);
    expect((await refusal(listDeployments(connect(server.address)))).code).toBe(status.UNAVAILABLE);

    await server.start();
    expect([server.listening, server.port]).toEqual([true, port]);
    const client = athenaClient(server.address);
    const listed = await firstValueFrom(client.listDeployments());
    expect(listed.map((d) => [d.deploymentId, d.backlog])).toEqual([['kept', 1]]);
    server.clearFaults();
    // A channel of its own: the one refused above shares grpc-js's subchannel, still in backoff.
    const again = openStream(connect(server.address, undefined, { 'grpc.use_local_subchannel_pool': 1 }));
    again.send(request('kept', []));
    const [output] = await again.waitForOutputs(1);
    expect(output?.correlationId).toBe('k1');
    again.call.end();
    raw.close();
  });

  it('a forced restart closes connections at once and listens again on the same port after downMs', async () => {
    server = await startAthenaServer();
    const port = server.port;
    const raw = connect(server.address);
    const stream = openStream(raw);
    stream.send(request('dep', [rawInput('a')]));
    await stream.waitForOutputs(1);
    const restarted = server.restart({ graceful: false, downMs: 150 });
    const ended = await stream.ended;
    // grpc-js 1.14 reports the destroyed session as a cancelled call.
    expect([ended.code, ended.details]).toEqual([status.CANCELLED, 'Call cancelled']);
    expect(server.listening).toBe(false);
    await restarted;
    expect([server.listening, server.port]).toEqual([true, port]);
    await until(() => server!.counters.streamsActive === 0);
    const client = athenaClient(server.address);
    const single = await firstValueFrom(client.classifySingle(rawInput('after')));
    expect(single.error).toBeUndefined();
    expect(server.deployments().map((d) => d.deploymentId)).toEqual(['dep']);
    raw.close();
  });

  it('dropState forgets deployments; stop twice is a no-op; start after close rejects', async () => {
    server = await startAthenaServer();
    const raw = connect(server.address);
    const stream = openStream(raw);
    stream.send(request('gone', [rawInput('a')]));
    await stream.waitForOutputs(1);
    await server.restart({ dropState: true });
    await server.stop();
    await server.stop();
    await server.start();
    expect(server.deployments()).toEqual([]);
    expect(server.counters.outputs).toBe(1);
    await expect(server.stop({ graceMs: -1 })).rejects.toBeInstanceOf(RangeError);
    await server.close();
    await expect(server.start()).rejects.toThrow(/closed/);
    expect(server.listening).toBe(false);
    raw.close();
  });
});
