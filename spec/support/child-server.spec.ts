import { status } from '@grpc/grpc-js';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import { classifySingle, connect, openStream, rawInput, request, sleep } from '../testing/helpers.js';
import { startChildServer, type ChildServer } from './child-server.js';

let server: ChildServer;
const clients: AthenaClient[] = [];
const athenaClient = () => {
  const c = new AthenaClient({ address: server.address, insecure: true, connectTimeoutMs: 5_000 });
  clients.push(c);
  return c;
};

beforeAll(async () => {
  server = await startChildServer({ faults: { errorRate: 1, errorMessage: 'from --faults' } });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server?.kill('SIGKILL');
});

describe('child server harness', () => {
  it('starts with faults from --faults on a free loopback port', async () => {
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    const output = await firstValueFrom(athenaClient().classifySingle(rawInput('f')));
    expect(output.error?.message).toBe('from --faults');
  });

  it('SIGKILL, then a restart on the same port serves a new client call', async () => {
    const before = server.pid;
    expect(await server.kill('SIGKILL')).toBeNull();
    await server.restart({});
    expect(server.pid).not.toBe(before);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    const output = await firstValueFrom(athenaClient().classifySingle(rawInput('after-kill')));
    expect([output.correlationId, output.error]).toEqual(['after-kill', undefined]);
  });

  it('SIGSTOP makes a call hang until SIGCONT', async () => {
    const raw = connect(server.address);
    await classifySingle(raw, rawInput('warm'));
    server.pause();
    try {
      const call = classifySingle(raw, rawInput('frozen'));
      expect(await Promise.race([call.then(() => 'answered'), sleep(700).then(() => 'hanging')])).toBe(
        'hanging',
      );
      server.resume();
      expect((await call).correlationId).toBe('frozen');
    } finally {
      server.resume();
      raw.close();
    }
  });

  it('SIGTERM stops gracefully: open streams end with UNAVAILABLE and the process exits 0', async () => {
    const raw = connect(server.address);
    const stream = openStream(raw);
    stream.send(request('dep', [rawInput('s')]));
    await stream.waitForOutputs(1, 10_000);
    expect(await server.stop()).toBe(0);
    const ended = await stream.ended;
    expect([ended.code, ended.details]).toEqual([status.UNAVAILABLE, 'Server shutting down']);
    expect(server.output()).toContain('athena-rx embedded server stopped');
    raw.close();
    await server.restart({});
    const again = connect(server.address);
    expect((await classifySingle(again, rawInput('back'))).error).toBeUndefined();
    again.close();
  });
});
