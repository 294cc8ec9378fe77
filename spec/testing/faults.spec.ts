import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/generated/athena/models.js';
import { seededRandom } from '../../src/testing/prng.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import {
  classifySingle,
  connect,
  listDeployments,
  openStream,
  rawInput,
  refusal,
  request,
  sleep,
  until,
} from './helpers.js';

let servers: AthenaServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function start(options: Parameters<typeof startAthenaServer>[0]) {
  const server = await startAthenaServer(options);
  servers.push(server);
  return { server, client: connect(server.address) };
}
const batch = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => rawInput(`${prefix}-${i}`));

describe('faults', () => {
  it('adds fixed latency to Classify batches and unary calls', async () => {
    const { client } = await start({ faults: { latencyMs: 150 } });
    const s = openStream(client);
    let t = Date.now();
    s.send(request('dep', [rawInput('a')]));
    await s.waitForOutputs(1);
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    t = Date.now();
    await listDeployments(client);
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    t = Date.now();
    await classifySingle(client, rawInput('b'));
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    s.call.end();
    client.close();
  });

  it('draws latency from a [min, max] range', async () => {
    const { client } = await start({ faults: { latencyMs: [60, 90] } });
    const s = openStream(client);
    const t = Date.now();
    s.send(request('dep', [rawInput('a')]));
    await s.waitForOutputs(1);
    expect(Date.now() - t).toBeGreaterThanOrEqual(55);
    s.call.end();
    client.close();
  });

  it('delays the first request of a new deployment', async () => {
    const { client } = await start({ faults: { newDeploymentLatencyMs: 150 } });
    const s = openStream(client);
    let t = Date.now();
    s.send(request('fresh', [rawInput('a')]));
    await s.waitForOutputs(1);
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    t = Date.now();
    s.send(request('fresh', [rawInput('b')]));
    await s.waitForOutputs(2);
    expect(Date.now() - t).toBeLessThan(140);
    s.call.end();
    client.close();
  });

  it('injects per-input errors with a chosen code, reproducibly under a seed', async () => {
    const { server, client } = await start({
      faults: { errorRate: 1, errorCode: ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE },
    });
    const s = openStream(client);
    s.send(request('dep', batch('e', 3)));
    const outputs = await s.waitForOutputs(3);
    expect(outputs.map((o) => o.error?.code)).toEqual([2, 2, 2]);
    expect(server.counters.errorsByCode).toEqual({ IMAGE_TOO_LARGE: 3 });
    expect((await classifySingle(client, rawInput('single'))).error?.message).toBe('Injected model error');
    s.call.end();
    client.close();

    const pattern = async (seed: number) => {
      const { client: c } = await start({ seed, faults: { errorRate: 0.5 } });
      const st = openStream(c);
      st.send(request('dep', batch('r', 20)));
      const out = await st.waitForOutputs(20);
      st.call.end();
      c.close();
      return out.map((o) => (o.error === undefined ? '.' : String(o.error.code))).join('');
    };
    const first = await pattern(42);
    expect(await pattern(42)).toBe(first);
    expect(first).toMatch(/3/);
    expect(first).toMatch(/\./);
  });

  it('fails every Nth request batch with global_error, or those a predicate picks', async () => {
    const { server, client } = await start({
      faults: { globalError: { every: 2, message: 'batch failed' } },
    });
    const s = openStream(client);
    for (let i = 1; i <= 4; i++) s.send(request('dep', [rawInput(`g${i}`)]));
    await until(() => s.responses.length === 4);
    const failed = s.responses.filter((r) => r.globalError !== undefined);
    expect(failed).toHaveLength(2);
    expect(failed.every((r) => r.outputs.length === 0 && r.globalError?.message === 'batch failed')).toBe(
      true,
    );
    expect(failed[0]?.globalError?.code).toBe(ErrorCode.ERROR_CODE_MODEL_ERROR);
    expect(s.outputs.map((o) => o.correlationId).sort()).toEqual(['g1', 'g3']);
    expect(server.counters.globalErrors).toBe(2);

    server.setFaults({
      globalError: {
        when: (req) => req.inputs.some((i) => i.correlationId === 'boom'),
        code: ErrorCode.ERROR_CODE_UNSPECIFIED,
      },
    });
    s.send(request('dep', [rawInput('fine')]));
    s.send(request('dep', [rawInput('boom')]));
    await until(() => s.responses.length === 6);
    expect(
      s.responses
        .slice(4)
        .map((r) => r.globalError?.code ?? r.outputs[0]?.correlationId)
        .sort(),
    ).toEqual([0, 'fine']);
    s.call.end();
    client.close();
  });

  it('resets a stream with INTERNAL RST_STREAM after N outputs, keeping the rest queued', async () => {
    const { server, client } = await start({ faults: { resetAfterOutputs: 3 } });
    const s = openStream(client);
    s.send(request('dep', batch('o', 5)));
    const end = await s.ended;
    expect(end.code).toBe(status.INTERNAL);
    expect(end.details).toContain('RST_STREAM');
    expect(s.outputs.map((o) => o.correlationId)).toEqual(['o-0', 'o-1', 'o-2']);
    expect(server.counters.resets).toBe(1);
    await until(() => server.deployments()[0]?.queued === 2);
    server.setFaults({ resetAfterOutputs: undefined });
    const again = openStream(client);
    again.send(request('dep', []));
    const rest = await again.waitForOutputs(2);
    expect(rest.map((o) => o.correlationId)).toEqual(['o-3', 'o-4']);
    again.call.end();
    client.close();
  });

  it('refuses new streams and unary calls with UNAVAILABLE for a while, leaving open streams alone', async () => {
    const { server, client } = await start({});
    const open = openStream(client);
    open.send(request('dep', []));
    await until(() => server.counters.keepalives === 1);
    server.setFaults({ unavailableForMs: 300 });
    const refused = openStream(client);
    refused.send(request('dep', [rawInput('x')]));
    expect((await refused.ended).code).toBe(status.UNAVAILABLE);
    expect((await refusal(listDeployments(client))).code).toBe(status.UNAVAILABLE);
    expect((await refusal(classifySingle(client, rawInput('y')))).code).toBe(status.UNAVAILABLE);
    open.send(request('dep', [rawInput('still-served')]));
    await open.waitForOutputs(1);
    expect(server.counters.streamsRefused).toBe(1);
    await sleep(320);
    expect((await listDeployments(client)).deployments).toHaveLength(1);
    open.call.end();
    client.close();
  });

  it('drops outputs at a rate: never answered, counted', async () => {
    const { server, client } = await start({ seed: 7, faults: { dropRate: 0.5 } });
    const s = openStream(client);
    s.send(request('dep', batch('d', 20)));
    await until(() => server.counters.outputs + server.counters.dropped === 20);
    await sleep(20);
    expect(s.outputs.length).toBe(server.counters.outputs);
    expect(server.counters.dropped).toBeGreaterThan(0);
    expect(server.counters.outputs).toBeGreaterThan(0);
    server.setFaults({ dropRate: 1 });
    s.send(request('dep', batch('all', 3)));
    await until(() => server.counters.dropped >= 23 - s.outputs.length);
    expect(s.outputs.filter((o) => o.correlationId.startsWith('all'))).toEqual([]);
    s.call.cancel();
    client.close();
  });

  it('changes and clears faults at run time', async () => {
    const { server, client } = await start({ faults: { errorRate: 1 } });
    expect(server.faults.errorRate).toBe(1);
    expect((await classifySingle(client, rawInput('a'))).error?.code).toBe(ErrorCode.ERROR_CODE_MODEL_ERROR);
    server.setFaults({ errorRate: undefined });
    expect((await classifySingle(client, rawInput('b'))).error).toBeUndefined();
    server.setFaults({ errorRate: 1, latencyMs: 1 });
    server.clearFaults();
    expect(server.faults).toEqual({});
    expect((await classifySingle(client, rawInput('c'))).error).toBeUndefined();
    expect(() => server.setFaults({ dropRate: -1 })).toThrow(RangeError);
    expect(() => server.setFaults({ latencyMs: [5, 1] })).toThrow(RangeError);
    expect(() => server.setFaults({ globalError: {} })).toThrow(RangeError);
    client.close();
  });

  it('abortStreams ends open streams as a restarting server would; outputs stay queued', async () => {
    const { server, client } = await start({ faults: { latencyMs: 100 } });
    const s = openStream(client);
    s.send(request('dep', [rawInput('pending')]));
    await until(() => server.counters.requests === 1);
    expect(server.abortStreams()).toBe(1);
    expect((await s.ended).code).toBe(status.UNAVAILABLE);
    await until(() => server.deployments()[0]?.queued === 1);
    const again = openStream(client);
    again.send(request('dep', []));
    expect((await again.waitForOutputs(1))[0]?.correlationId).toBe('pending');
    again.call.end();
    client.close();
  });
});

describe('seededRandom', () => {
  it('repeats a sequence for a seed and differs across seeds', () => {
    const take = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));
    expect(take(1)).toEqual(take(1));
    expect(take(1)).not.toEqual(take(2));
    expect(take(3).every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
