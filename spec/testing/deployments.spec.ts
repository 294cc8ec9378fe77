import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import { connect, listDeployments, openStream, rawInput, request, sleep, until } from './helpers.js';

let server: AthenaServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('deployments', () => {
  it('streams with the same deployment id share its outputs (round robin)', async () => {
    server = await startAthenaServer();
    const client = connect(server.address);
    const a = openStream(client);
    const b = openStream(client);
    a.send(request('shared', []));
    b.send(request('shared', []));
    await until(() => server!.deployments()[0]?.streams === 2);
    for (const batch of ['p', 'q', 'r', 's'])
      a.send(request('shared', [rawInput(`${batch}-1`), rawInput(`${batch}-2`)]));
    await until(() => a.outputs.length + b.outputs.length === 8);
    expect(a.outputs.length).toBeGreaterThan(0);
    expect(b.outputs.length).toBeGreaterThan(0);
    const all = [...a.outputs, ...b.outputs].map((o) => o.correlationId).sort();
    expect(all).toEqual(['p-1', 'p-2', 'q-1', 'q-2', 'r-1', 'r-2', 's-1', 's-2']);
    a.call.end();
    b.call.end();
    client.close();
  });

  it('keeps other deployments apart', async () => {
    server = await startAthenaServer();
    const client = connect(server.address);
    const a = openStream(client);
    const b = openStream(client);
    b.send(request('other', []));
    a.send(request('mine', [rawInput('m-1')]));
    await a.waitForOutputs(1);
    await sleep(50);
    expect(b.outputs).toEqual([]);
    expect((await listDeployments(client)).deployments.map((d) => d.deploymentId).sort()).toEqual([
      'mine',
      'other',
    ]);
    a.call.end();
    b.call.end();
    client.close();
  });

  it('queues outputs while no stream is connected and delivers them to the next one', async () => {
    server = await startAthenaServer({ faults: { latencyMs: 150 } });
    const client = connect(server.address);
    const first = openStream(client);
    first.send(
      request(
        'dep',
        ids('late', 3).map((id) => rawInput(id)),
      ),
    );
    await until(() => server!.counters.requests === 1);
    first.call.cancel();
    await first.ended;
    await until(() => server!.deployments()[0]?.queued === 3);
    expect((await listDeployments(client)).deployments).toEqual([
      expect.objectContaining({ deploymentId: 'dep', backlog: 3 }),
    ]);
    expect(first.outputs).toEqual([]);
    const second = openStream(client);
    second.send(request('dep', []));
    const outputs = await second.waitForOutputs(3);
    expect(outputs.map((o) => o.correlationId)).toEqual(ids('late', 3));
    expect(server.deployments()[0]).toMatchObject({ queued: 0, backlog: 0, streams: 1 });
    second.call.end();
    client.close();
  });

  it('expires outputs nobody collected, counting them', async () => {
    server = await startAthenaServer({ outputTtlMs: 100, faults: { latencyMs: 50 } });
    const client = connect(server.address);
    const s = openStream(client);
    s.send(request('dep', [rawInput('a'), rawInput('b')]));
    await until(() => server!.counters.requests === 1);
    s.call.cancel();
    await until(() => server!.deployments()[0]?.queued === 2);
    await until(() => server!.counters.expired === 2, 2000);
    const late = openStream(client);
    late.send(request('dep', []));
    await sleep(50);
    expect(late.outputs).toEqual([]);
    late.call.end();
    client.close();
  });

  it('forgets a deployment after deploymentIdleTtlMs without activity', async () => {
    server = await startAthenaServer({ deploymentIdleTtlMs: 80 });
    const client = connect(server.address);
    const s = openStream(client);
    s.send(request('brief', [rawInput('x')]));
    await s.waitForOutputs(1);
    await sleep(150);
    expect(server.deployments()).toHaveLength(1); // a connected stream keeps it
    s.call.end();
    await s.ended;
    await until(() => server!.deployments().length === 0, 2000);
    expect((await listDeployments(client)).deployments).toEqual([]);
    client.close();
  });

  it('aborts a stream with INVALID_ARGUMENT when a request changes the deployment id', async () => {
    server = await startAthenaServer();
    const client = connect(server.address);
    const s = openStream(client);
    s.send(request('one', [rawInput('x')]));
    await s.waitForOutputs(1);
    s.send(request('two', [rawInput('y')]));
    const end = await s.ended;
    expect(end.code).toBe(status.INVALID_ARGUMENT);
    expect(end.details).toContain('deployment_id');
    expect(server.counters).toMatchObject({ streamsAborted: 1, streamsActive: 0 });
    client.close();
  });

  it('processes a re-sent correlation id again and counts it as a duplicate', async () => {
    server = await startAthenaServer({ faults: { latencyMs: 30 } });
    const client = connect(server.address);
    const first = openStream(client);
    first.send(request('dep', [rawInput('same'), rawInput('other')]));
    await first.waitForOutputs(2);
    first.call.cancel();
    const second = openStream(client);
    second.send(request('dep', [rawInput('same')]));
    const outputs = await second.waitForOutputs(1);
    expect(outputs[0]).toMatchObject({ correlationId: 'same', error: undefined });
    expect(server.counters.duplicateCorrelationIds).toBe(1);
    // Another deployment has its own ids.
    second.call.end();
    const third = openStream(client);
    third.send(request('elsewhere', [rawInput('same')]));
    await third.waitForOutputs(1);
    expect(server.counters.duplicateCorrelationIds).toBe(1);
    third.call.end();
    client.close();
  });
});
