import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { NEVER, Subject, defer, firstValueFrom, lastValueFrom, of, throwError, timer, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AthenaError, OAuthError } from '../../src/errors.js';
import { ClassificationInput, ClassifyRequest } from '../../src/generated/athena/models.js';
import { AthenaClient, createAthenaClient } from '../../src/transport/AthenaClient.js';
import { isLoopbackAddress } from '../../src/transport/channel.js';
import { type AccessToken } from '../../src/transport/contracts.js';
import { bearer, type RecordingServer, rotatingSource, startRecordingServer } from './client-fixtures.js';

const packageVersion = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

let server: RecordingServer;
const clients: AthenaClient[] = [];
const client = (options: ConstructorParameters<typeof AthenaClient>[0] = {}) => {
  const made = createAthenaClient({ address: server.address, insecure: true, ...options });
  clients.push(made);
  return made;
};
const input = (correlationId: string) => ClassificationInput.create({ affiliate: 'a', correlationId });

beforeAll(async () => {
  server = await startRecordingServer();
});
afterAll(() => server.stop());
afterEach(() => {
  for (const made of clients.splice(0)) made.close();
  server.calls.length = 0;
  server.cancelled.length = 0;
  server.accepted.clear();
});

async function eventually(check: () => boolean, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('AthenaClient metadata', () => {
  it('sends x-client-version and x-client-language on every RPC, with extra metadata', async () => {
    const athena = client({ metadata: { 'x-team': 'trust' } });
    await firstValueFrom(athena.listDeployments());
    await firstValueFrom(athena.classifySingle(input('one')));
    await lastValueFrom(athena.classifyStream('dep', of(ClassifyRequest.create({ inputs: [input('two')] }))));
    expect(server.calls.map((call) => call.method)).toEqual([
      'listDeployments',
      'classifySingle',
      'classify',
    ]);
    for (const call of server.calls) {
      expect(call.metadata['x-client-version']).toBe(`athena-rx/${packageVersion}`);
      expect(call.metadata['x-client-language']).toBe('typescript');
      expect(call.metadata['x-team']).toBe('trust');
      expect(call.metadata['authorization']).toBeUndefined();
    }
  });

  it('refuses authorization in metadata', () => {
    expect(() => client({ metadata: { Authorization: 'Bearer x' } })).toThrow(TypeError);
  });
});

describe('AthenaClient credentials', () => {
  it('sends the token as authorization over loopback plaintext, subscribing once', async () => {
    server.accepted.add('Bearer good');
    let subscriptions = 0;
    const source = new Subject<AccessToken>();
    const athena = client({
      credentials: defer(() => {
        subscriptions += 1;
        return source;
      }),
    });
    expect(subscriptions).toBe(0);
    const listed = firstValueFrom(athena.listDeployments());
    const single = firstValueFrom(athena.classifySingle(input('c')));
    await firstValueFrom(timer(30));
    expect(server.calls).toHaveLength(0); // both wait for the first token
    source.next(bearer('good'));
    expect(await listed).toEqual([{ deploymentId: 'd-1', backlog: 2, _unknownFields: {} }]);
    expect((await single).correlationId).toBe('c');
    await firstValueFrom(athena.listDeployments());
    expect(subscriptions).toBe(1);
    expect(server.calls.map((call) => call.metadata['authorization'])).toEqual([
      'Bearer good',
      'Bearer good',
      'Bearer good',
    ]);
  });

  it('fails a wrong token with UNAUTHENTICATED, typed, without retrying a source that cannot refresh', async () => {
    server.accepted.add('Bearer good');
    const athena = client({ credentials: of(bearer('wrong')) });
    const error = await firstValueFrom(athena.listDeployments()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AthenaError);
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', status: 16, details: 'bad token' });
    expect((error as Error).message).not.toContain('wrong');
    expect(server.calls).toHaveLength(1);
  });

  it('refreshes once on UNAUTHENTICATED and retries the unary call once, which succeeds', async () => {
    server.accepted.add('Bearer fresh');
    const source = rotatingSource(['expired', 'fresh']);
    const athena = client({ credentials: source });
    const output = await firstValueFrom(athena.classifySingle(input('retry-me')));
    expect(output.correlationId).toBe('retry-me');
    expect(source.refreshes).toBe(1);
    expect(server.calls.map((call) => call.metadata['authorization'])).toEqual([
      'Bearer expired',
      'Bearer fresh',
    ]);
  });

  it('retries only once: a refreshed token that is also refused fails the call', async () => {
    server.accepted.add('Bearer never-issued');
    const source = rotatingSource(['expired', 'also-expired']);
    const athena = client({ credentials: source });
    await expect(firstValueFrom(athena.listDeployments())).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(source.refreshes).toBe(1);
    expect(server.calls).toHaveLength(2);
  });

  it('streams: surfaces UNAUTHENTICATED after asking for a refresh; the next stream uses the new token', async () => {
    server.accepted.add('Bearer fresh');
    const source = rotatingSource(['expired', 'fresh']);
    const athena = client({ credentials: source });
    const request = ClassifyRequest.create({ inputs: [input('s1')] });
    await expect(lastValueFrom(athena.classifyStream('dep', of(request)))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      status: 16,
    });
    expect(source.refreshes).toBe(1);
    const responses = await lastValueFrom(athena.classifyStream('dep', of(request)).pipe(toArray()));
    expect(responses.flatMap((r) => r.outputs.map((o) => o.correlationId))).toEqual(['s1']);
    expect(server.calls.map((call) => call.metadata['authorization'])).toEqual([
      'Bearer expired',
      'Bearer fresh',
    ]);
  });

  it('fails calls with the token source error, typed, and subscribes again on the next call', async () => {
    let attempts = 0;
    const oauth = new OAuthError('token endpoint said no', { error: 'invalid_client', httpStatus: 401 });
    const source = defer(() => {
      attempts += 1;
      return attempts === 1 ? throwError(() => oauth) : of(bearer('good'));
    });
    const athena = client({ credentials: source });
    await expect(firstValueFrom(athena.listDeployments())).rejects.toBe(oauth);
    expect(server.calls).toHaveLength(0);
    await expect(firstValueFrom(athena.listDeployments())).resolves.toHaveLength(1);
    expect(attempts).toBe(2);
  });

  it('wraps a plain token source error as OAUTH_ERROR', async () => {
    const athena = client({ credentials: throwError(() => new Error('network down')) });
    await expect(firstValueFrom(athena.listDeployments())).rejects.toMatchObject({
      code: 'OAUTH_ERROR',
      message: 'network down',
    });
  });

  it('bounds the wait for a token by the unary deadline', async () => {
    const athena = client({ credentials: NEVER, defaultDeadlineMs: 50 });
    await expect(firstValueFrom(athena.listDeployments())).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      status: 4,
    });
  });
});

describe('AthenaClient calls', () => {
  it('cancels a unary call on unsubscribe, without emitting', async () => {
    const athena = client();
    const seen: unknown[] = [];
    const subscription = athena.classifySingle(input('hold-1')).subscribe({
      next: (v) => seen.push(v),
      error: (e: unknown) => seen.push(e),
    });
    await eventually(() => server.calls.length === 1);
    subscription.unsubscribe();
    await eventually(() => server.cancelled.includes('hold-1'));
    expect(seen).toEqual([]);
  });

  it('fails UNAVAILABLE after connectTimeoutMs when the channel never connects', async () => {
    const silent = createServer(() => undefined); // accepts TCP, never speaks HTTP/2
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const athena = client({ address: `127.0.0.1:${port}`, connectTimeoutMs: 150 });
      const error = await lastValueFrom(athena.classifyStream('dep', NEVER)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNAVAILABLE', status: 14, details: 'connect timeout' });
    } finally {
      silent.close();
      for (const made of clients.splice(0)) made.close();
    }
  });

  it('disposes asynchronously', async () => {
    const athena = client();
    await athena[Symbol.asyncDispose]();
    expect(athena.isClosed).toBe(true);
    await expect(firstValueFrom(athena.listDeployments())).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('AthenaClient transport security', () => {
  const token = of(bearer('t'));

  it('refuses plaintext with credentials to a non-loopback address, at construction', () => {
    for (const address of ['10.1.2.3:50051', 'athena.example.com:80', 'dns:///athena.example.com:80']) {
      const attempt = () => new AthenaClient({ address, insecure: true, credentials: token });
      expect(attempt).toThrow(AthenaError);
      expect(attempt).toThrow(expect.objectContaining({ code: 'INSECURE_TRANSPORT' }));
    }
  });

  it('allows it when asked explicitly, without credentials, or over TLS', () => {
    const made = [
      new AthenaClient({
        address: '10.1.2.3:50051',
        insecure: true,
        credentials: token,
        allowInsecureCredentials: true,
      }),
      new AthenaClient({ address: '10.1.2.3:50051', insecure: true }),
      new AthenaClient({ address: '10.1.2.3:50051', credentials: token }),
      new AthenaClient({ credentials: token }),
    ];
    expect(made[3]?.address).toBe('api.athena-risk-intelligence.com:443');
    for (const athena of made) athena.close();
  });

  it('recognises loopback targets', () => {
    const loopback = [
      '127.0.0.1:1',
      'localhost:50051',
      '[::1]:443',
      'ipv4:127.0.0.2:9',
      'dns:///localhost:1',
      'unix:/tmp/s',
    ];
    const remote = [
      '10.0.0.1:1',
      'example.com:443',
      '[2001:db8::1]:443',
      'localhost.example.com:1',
      '128.0.0.1:1',
    ];
    expect(loopback.filter((a) => !isLoopbackAddress(a))).toEqual([]);
    expect(remote.filter((a) => isLoopbackAddress(a))).toEqual([]);
  });

  it('checks its options when constructed', () => {
    expect(() => new AthenaClient({ address: '' })).toThrow(RangeError);
    expect(() => new AthenaClient({ defaultDeadlineMs: 0 })).toThrow(RangeError);
    expect(() => new AthenaClient({ insecure: true, rootCerts: 'pem' })).toThrow(TypeError);
    expect(() => new AthenaClient({ credentials: 'token' as unknown as typeof token })).toThrow(TypeError);
  });
});

describe('AthenaClient UNAUTHENTICATED for a replaced token', () => {
  it('refreshes once for the current token; a late refusal of the replaced one does not refresh again', async () => {
    server.accepted.add('Bearer second');
    const source = rotatingSource(['first', 'second', 'third']);
    const athena = client({ credentials: source });
    // Both calls carry `first`; the slow one is refused 150 ms later, long after `second` replaced it.
    const slow = firstValueFrom(athena.classifySingle(input('slow-1')));
    const quick = firstValueFrom(athena.classifySingle(input('quick-1')));
    expect((await quick).correlationId).toBe('quick-1');
    expect(source.refreshes).toBe(1);
    expect((await slow).correlationId).toBe('slow-1');
    expect(source.refreshes).toBe(1);
    expect(server.calls.map((call) => call.metadata['authorization'])).toEqual([
      'Bearer first',
      'Bearer first',
      'Bearer second',
      'Bearer second',
    ]);
  });

  it('treats a token re-emitted as a new object as the current one: its refusal refreshes', async () => {
    server.accepted.add('Bearer second');
    // Like a vault poller, the source pushes the same token value again as a new object.
    const source = rotatingSource(['first', 'second']);
    const athena = client({ credentials: source });
    const call = firstValueFrom(athena.classifySingle(input('slow-reemit')));
    await eventually(() => server.calls.length === 1);
    source.reemit(bearer('first')); // while the call carrying `first` is still out
    expect((await call).correlationId).toBe('slow-reemit');
    expect(source.refreshes).toBe(1);
    expect(server.calls.map((c) => c.metadata['authorization'])).toEqual(['Bearer first', 'Bearer second']);
  });
});
