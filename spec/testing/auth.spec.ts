import { Metadata, status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import {
  bearer,
  classifySingle,
  connect,
  listDeployments,
  openStream,
  rawInput,
  refusal,
  request,
} from './helpers.js';

let server: AthenaServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('auth', () => {
  it('accepts listed tokens on all three RPCs', async () => {
    server = await startAthenaServer({ auth: { tokens: ['good-token'] } });
    const client = connect(server.address);
    const meta = bearer('good-token');
    expect((await listDeployments(client, meta)).deployments).toEqual([]);
    expect((await classifySingle(client, rawInput('one'), meta)).error).toBeUndefined();
    const s = openStream(client, meta);
    s.send(request('dep', [rawInput('two')]));
    await s.waitForOutputs(1);
    s.call.end();
    expect((await s.ended).code).toBe(status.OK);
    expect(server.counters.unauthenticated).toBe(0);
    client.close();
  });

  it('refuses missing, malformed and unknown tokens with UNAUTHENTICATED, never echoing them', async () => {
    server = await startAthenaServer({ auth: { tokens: ['good-token'] } });
    const client = connect(server.address);
    const malformed = new Metadata();
    malformed.set('authorization', 'good-token');
    for (const meta of [new Metadata(), malformed, bearer('wrong-secret')]) {
      const e = await refusal(listDeployments(client, meta));
      expect(e.code).toBe(status.UNAUTHENTICATED);
      expect(e.details).not.toContain('wrong-secret');
      expect((await refusal(classifySingle(client, rawInput('x'), meta))).code).toBe(status.UNAUTHENTICATED);
    }
    const s = openStream(client, bearer('wrong-secret'));
    s.send(request('dep', [rawInput('never')]));
    const end = await s.ended;
    expect(end.code).toBe(status.UNAUTHENTICATED);
    expect(s.outputs).toEqual([]);
    expect(server.counters.unauthenticated).toBe(7);
    expect(server.counters.requests).toBe(0);
    expect(server.deployments()).toEqual([]);
    client.close();
  });

  it('asks a verify function about other tokens, sync or async, and refuses when it throws', async () => {
    const seen: string[] = [];
    server = await startAthenaServer({
      auth: {
        tokens: ['static'],
        verify: async (token, type) => {
          seen.push(`${type} ${token}`);
          if (token === 'explode') throw new Error('verifier down');
          return token.startsWith('jwt.');
        },
      },
    });
    const client = connect(server.address);
    expect((await listDeployments(client, bearer('static'))).deployments).toEqual([]);
    expect((await listDeployments(client, bearer('jwt.valid'))).deployments).toEqual([]);
    expect((await refusal(listDeployments(client, bearer('jwt-not')))).code).toBe(status.UNAUTHENTICATED);
    expect((await refusal(listDeployments(client, bearer('explode')))).code).toBe(status.UNAUTHENTICATED);
    expect(seen).toEqual(['Bearer jwt.valid', 'Bearer jwt-not', 'Bearer explode']);
    const s = openStream(client, bearer('jwt.stream'));
    s.send(request('dep', [rawInput('ok')]));
    await s.waitForOutputs(1);
    s.call.end();
    client.close();
  });

  it('rejects an auth option with neither tokens nor verify', async () => {
    await expect(startAthenaServer({ auth: {} })).rejects.toBeInstanceOf(RangeError);
  });
});
