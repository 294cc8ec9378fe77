import { status } from '@grpc/grpc-js';
import { Subject, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { ClassifyRequest, type ClassifyResponse } from '../../src/generated/athena/models.js';
import { startAthenaServer, type AthenaServer, type AthenaServerOptions } from '../../src/testing/server.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import { staticToken } from '../../src/transport/staticToken.js';
import {
  bearer,
  classifySingle,
  connect,
  openStream,
  rawInput,
  refusal,
  request,
  sleep,
  until,
} from './helpers.js';

const TOKEN = 'field-fault-token-7f3a9c';
let servers: AthenaServer[] = [];
let clients: AthenaClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  clients = [];
});
async function start(options: AthenaServerOptions = {}) {
  const server = await startAthenaServer({ auth: { tokens: [TOKEN] }, ...options });
  servers.push(server);
  const client = new AthenaClient({
    address: server.address,
    insecure: true,
    credentials: staticToken(TOKEN),
  });
  clients.push(client);
  return { server, client };
}
/** Opens a Classify stream through AthenaClient; collects what comes back. */
function session(client: AthenaClient, deploymentId: string) {
  const requests = new Subject<ClassifyRequest>();
  const responses: ClassifyResponse[] = [];
  let ended: unknown = 'open';
  const sub = client.classifyStream(deploymentId, requests).subscribe({
    next: (r) => void responses.push(r),
    error: (e: unknown) => void (ended = e),
    complete: () => void (ended = 'complete'),
  });
  const ids = () => responses.flatMap((r) => r.outputs.map((o) => o.correlationId));
  const send = (...cids: string[]) =>
    requests.next(ClassifyRequest.fromPartial({ deploymentId, inputs: cids.map((c) => rawInput(c)) }));
  return { requests, responses, ids, send, ended: () => ended, close: () => sub.unsubscribe() };
}

describe('stall fault', () => {
  it('keeps the stream open and reading, queues outputs on the deployment, delivers them when lifted', async () => {
    const { server, client } = await start({ faults: { stall: true } });
    const s = session(client, 'stalled');
    s.send('a', 'b');
    await until(() => server.deployments()[0]?.queued === 2);
    s.send('c');
    await until(() => server.deployments()[0]?.queued === 3);
    expect(server.counters).toMatchObject({ requests: 2, outputs: 0, streamsActive: 1 });
    expect(s.responses).toEqual([]);
    expect(s.ended()).toBe('open');

    server.setFaults({ stall: false });
    await until(() => s.ids().length === 3);
    expect(s.ids().sort()).toEqual(['a', 'b', 'c']);
    expect(server.deployments()[0]).toMatchObject({ queued: 0, streams: 1 });
    s.close();
  });

  it('stallAfterOutputs lets each stream send N outputs, then withholds the rest until cleared', async () => {
    const { server, client } = await start({ faults: { stallAfterOutputs: 2 } });
    const s = session(client, 'partial');
    s.send('a', 'b', 'c');
    await until(() => s.ids().length === 2 && server.deployments()[0]?.queued === 1);
    s.send('d');
    await until(() => server.deployments()[0]?.queued === 2);
    expect(s.ids()).toEqual(['a', 'b']);
    server.clearFaults();
    await until(() => s.ids().length === 4);
    expect(s.ids()).toEqual(['a', 'b', 'c', 'd']);
    s.close();
  });

  it('does not end a half-closed stream while stalled', async () => {
    const { server } = await start({ faults: { stall: true } });
    const raw = connect(server.address);
    const st = openStream(raw, bearer(TOKEN));
    st.send(request('half', [rawInput('x')]));
    st.call.end();
    await until(() => server.deployments()[0]?.queued === 1);
    const early = await Promise.race([st.ended, sleep(200).then(() => 'still open')]);
    expect(early).toBe('still open');
    server.setFaults({ stall: undefined });
    expect((await st.ended).code).toBe(status.OK);
    expect(st.outputs.map((o) => o.correlationId)).toEqual(['x']);
    raw.close();
  });
});

describe('hostile faults', () => {
  it('echoMetadata ends Classify streams and unary calls with the request metadata, authorization included', async () => {
    const { server, client } = await start({ faults: { echoMetadata: true } });
    const raw = connect(server.address);
    const st = openStream(raw, bearer(TOKEN));
    st.send(request('echo', []));
    st.send(request('echo', [rawInput('e1')]));
    const ended = await st.ended;
    expect(ended.code).toBe(status.INTERNAL);
    expect(ended.details).toContain(`authorization=Bearer ${TOKEN}`);
    const unary = await refusal(classifySingle(raw, rawInput('u'), bearer(TOKEN)));
    expect(unary.details).toContain(`authorization=Bearer ${TOKEN}`);
    raw.close();

    server.setFaults({ statusCode: status.UNAVAILABLE });
    const s = session(client, 'echo');
    s.send('e2');
    await until(() => s.ended() !== 'open');
    expect(s.ended()).toBeInstanceOf(AthenaError);
    expect((s.ended() as AthenaError).status).toBe(status.UNAVAILABLE);
    const listed = await firstValueFrom(client.listDeployments()).catch((e: unknown) => e);
    expect((listed as AthenaError).status).toBe(status.UNAVAILABLE);
  });

  it('leakAuthorization puts the authorization value into each output error', async () => {
    const { client } = await start({ faults: { leakAuthorization: true } });
    const s = session(client, 'leak');
    s.send('l1', 'l2');
    await until(() => s.ids().length === 2);
    for (const o of s.responses.flatMap((r) => r.outputs)) {
      expect(o.error?.message).toContain(TOKEN);
      expect(o.error?.details).toBe(`authorization: Bearer ${TOKEN}`);
    }
    const single = await firstValueFrom(client.classifySingle(rawInput('one')));
    expect(single.error?.message).toContain(`Bearer ${TOKEN}`);
    s.close();
  });

  it('outputErrorBytes sends output errors with a message of exactly N bytes (10 MB arrives)', async () => {
    const n = 10 * 1024 * 1024;
    const { client } = await start({ faults: { outputErrorBytes: n } });
    const s = session(client, 'big-error');
    s.send('big');
    await until(() => s.ids().length === 1, 10_000);
    const error = s.responses[0]?.outputs[0]?.error;
    expect(Buffer.byteLength(error?.message ?? '')).toBe(n);
    expect(error?.message.startsWith('Injected model error')).toBe(true);
    s.close();
  });

  it('statusDetailsBytes: 10,000 bytes of details arrive; 10 MB never do and wedge the connection', async () => {
    const { server } = await start({ faults: { statusDetailsBytes: 10_000 } });
    const small = connect(server.address);
    const st = openStream(small, bearer(TOKEN));
    st.send(request('huge', [rawInput('h')]));
    const ended = await st.ended;
    expect([ended.code, ended.details.length]).toEqual([status.INTERNAL, 10_000]);
    small.close();

    server.setFaults({ statusDetailsBytes: 10 * 1024 * 1024 });
    const raw = connect(server.address);
    const big = openStream(raw, bearer(TOKEN));
    big.send(request('huge', [rawInput('h')]));
    await until(() => server.counters.streamsActive === 0 && server.counters.requests === 2);
    // The server has ended the call; the client sees nothing, like a silent stall.
    expect(await Promise.race([big.ended, sleep(500).then(() => 'no status')])).toBe('no status');
    server.clearFaults();
    // Later calls on the same connection hang too (until their deadline); a new connection works.
    const same = await refusal(
      new Promise((resolve, reject) =>
        raw.listDeployments({}, bearer(TOKEN), { deadline: Date.now() + 500 }, (e, r) =>
          e ? reject(e) : resolve(r),
        ),
      ),
    );
    expect(same.code).toBe(status.DEADLINE_EXCEEDED);
    const fresh = connect(server.address);
    expect((await classifySingle(fresh, rawInput('after'), bearer(TOKEN))).error).toBeUndefined();
    big.call.cancel();
    raw.close();
    fresh.close();
  });

  it('rejects bad values for the new knobs', async () => {
    await expect(startAthenaServer({ faults: { stall: 'yes' as never } })).rejects.toBeInstanceOf(TypeError);
    await expect(startAthenaServer({ faults: { stallAfterOutputs: -1 } })).rejects.toBeInstanceOf(RangeError);
    await expect(startAthenaServer({ faults: { statusDetailsBytes: 1.5 } })).rejects.toBeInstanceOf(
      TypeError,
    );
    await expect(startAthenaServer({ faults: { statusCode: 0 } })).rejects.toBeInstanceOf(RangeError);
  });
});
