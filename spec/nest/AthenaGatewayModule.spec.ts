import { from, lastValueFrom, tap, toArray, VirtualTimeScheduler } from 'rxjs';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyVia } from '../../src/browser/classify-via.js';
import type { AthenaError } from '../../src/errors.js';
import {
  decodeServerMessage,
  encodeImageFrame,
  type ServerMessage,
  type WireImage,
} from '../../src/internal/gateway/protocol.js';
import type { ImageItem, Outcome } from '../../src/model.js';
import { AthenaGatewayModule } from '../../src/nest/AthenaGatewayModule.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/server.js';
import { pixels, prepared, startGatewayApp, wsFactory, type GatewayApp } from '../support/gateway-app.js';

const SKY = pixels(235, 206, 135);
const FOREST = pixels(34, 139, 34);
const DEPLOYMENT = `gw-${process.pid}`;
const fast = { random: () => 0 };

let athena: AthenaServer;
let gateway: GatewayApp;
let tight: GatewayApp;
/** Answers after 1 s, so every frame of a burst arrives while the first ones are in flight. */
let slowAthena: AthenaServer;

beforeAll(async () => {
  athena = await startAthenaServer({ auth: { tokens: ['gw-token'] } });
  gateway = await startGatewayApp({ athena: athena.address, deploymentId: DEPLOYMENT });
  slowAthena = await startAthenaServer({ auth: { tokens: ['gw-token'] } });
  slowAthena.setFaults({ latencyMs: 1_000 });
  tight = await startGatewayApp({
    athena: slowAthena.address,
    deploymentId: `${DEPLOYMENT}-tight`,
    limits: { maxInFlight: 3, burst: 3, ratePerSecond: 0.001, maxBytesInFlight: 1_000_000 },
    scheduler: new VirtualTimeScheduler(),
  });
}, 30_000);

afterAll(async () => {
  await gateway?.close();
  await tight?.close();
  await athena?.close();
  await slowAthena?.close();
});

function images(prefix: string, n: number, raw = SKY): ImageItem[] {
  return Array.from({ length: n }, (_, i) => prepared(`${prefix}-${i}`, raw, i % 5 !== 0));
}

function ids(outcomes: readonly { readonly correlationId?: string }[]): string[] {
  return outcomes.map((o) => o.correlationId ?? '?').sort();
}

/** A socket of its own speaking the wire protocol: send frames, then wait for the next messages. */
async function rawSession(url: string) {
  const socket = new WebSocket(url);
  const inbox: ServerMessage[] = [];
  let wake: (() => void) | undefined;
  socket.on('message', (data, isBinary) => {
    inbox.push(
      decodeServerMessage(isBinary ? '' : String(data)) ?? { v: 1, type: 'rejected', code: '?', message: '' },
    );
    wake?.();
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return {
    send: (frames: (Uint8Array | string)[]) => frames.forEach((frame) => socket.send(frame)),
    async next(count: number): Promise<ServerMessage[]> {
      const deadline = Date.now() + 20_000;
      while (inbox.length < count && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 200);
        });
      }
      expect(inbox.length, JSON.stringify(inbox)).toBeGreaterThanOrEqual(count);
      return inbox.splice(0, count);
    },
    close: () => socket.terminate(),
  };
}

/** Outcomes and rejections as `id:result` texts, sorted. */
function summary(messages: readonly ServerMessage[]): string[] {
  return messages
    .map((m) =>
      m.type === 'outcome'
        ? `${m.id}:${m.ok ? 'ok' : `${m.stage}:${m.code}`}`
        : m.type === 'rejected'
          ? `rejected:${m.code}`
          : m.type,
    )
    .sort();
}

function brotli(id: string): Partial<WireImage> {
  return { encoding: 'brotli', data: prepared(id, FOREST, true).data };
}

function wire(id: string, overrides: Partial<WireImage> = {}): Uint8Array {
  const item = prepared(id, FOREST);
  const [md5, sha1] = item.hashes.map((h) => h.value) as [string, string];
  return encodeImageFrame({ id, encoding: 'raw', md5, sha1, data: item.data, ...overrides });
}

describe('AthenaGatewayModule with classifyVia over ws', () => {
  it('classifies 50 images, one outcome each, over one Classify stream', async () => {
    const webSocket = wsFactory();
    const outcomes = await lastValueFrom(
      from(images('fifty', 50)).pipe(classifyVia(gateway.url, { webSocket, ...fast }), toArray()),
    );
    expect(outcomes).toHaveLength(50);
    expect(new Set(ids(outcomes)).size).toBe(50);
    expect(outcomes.every((o) => o.ok && o.classifications.length > 0)).toBe(true);
    expect(webSocket.opened).toBe(1);
    const deployment = athena.deployments().find((d) => d.deploymentId === DEPLOYMENT);
    expect(deployment?.streams).toBe(1);
  }, 60_000);

  it('loses and duplicates nothing when the gateway drops the socket mid-run', async () => {
    const webSocket = wsFactory();
    const before = gateway.sockets.length;
    let seen = 0;
    const outcomes = await lastValueFrom(
      from(images('drop', 50)).pipe(
        classifyVia(gateway.url, { webSocket, maxInFlight: 8, ...fast }),
        tap(() => {
          seen += 1;
          if (seen === 20) gateway.sockets[before]?.terminate();
        }),
        toArray(),
      ),
    );
    expect(webSocket.opened).toBe(2);
    expect(gateway.sockets.length).toBe(before + 2);
    expect(ids(outcomes)).toEqual(ids(images('drop', 50)));
    expect(outcomes.every((o) => o.ok)).toBe(true);
  }, 60_000);

  it('keeps two connections apart, even with the same ids', async () => {
    const run = (raw: Buffer) =>
      lastValueFrom(
        from(images('same', 25, raw)).pipe(classifyVia(gateway.url, { webSocket: wsFactory() }), toArray()),
      );
    const [sky, forest] = await Promise.all([run(SKY), run(FOREST)]);
    const labels = (outcomes: Outcome[]) =>
      new Set(outcomes.map((o) => (o.ok ? JSON.stringify(o.classifications) : o.stage)));
    expect(ids(sky)).toEqual(ids(forest));
    expect(labels(sky).size).toBe(1);
    expect(labels(forest).size).toBe(1);
    expect([...labels(sky)][0]).not.toEqual([...labels(forest)][0]);
    expect(athena.deployments().find((d) => d.deploymentId === DEPLOYMENT)?.streams).toBe(1);
  }, 60_000);

  it('closes an unauthenticated connection (4401) and a forbidden one (4403); classifyVia fails at transport', async () => {
    const run = (url: string) =>
      lastValueFrom(
        from(images('nope', 2)).pipe(classifyVia(url, { webSocket: wsFactory() }), toArray()),
      ).catch((error: AthenaError) => error);
    const failures: Outcome[] = [];
    const unauthenticated = await lastValueFrom(
      from(images('nope', 2)).pipe(
        classifyVia(`${gateway.bare}?ticket=s3cr3t-guess`, { webSocket: wsFactory() }),
        tap((o) => failures.push(o)),
        toArray(),
      ),
    ).catch((error: AthenaError) => error);
    expect(unauthenticated).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(failures.map((f) => (f.ok ? 'ok' : `${f.stage}:${f.error.code}`))).toEqual([
      'transport:UNAUTHENTICATED',
      'transport:UNAUTHENTICATED',
    ]);
    expect(await run(`${gateway.bare}?ticket=forbidden`)).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect((unauthenticated as Error).message).toContain('4401');
    expect((unauthenticated as Error).message).not.toContain('s3cr3t');
    expect(await run(gateway.bare)).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('AthenaGatewayModule limits and hostile input', () => {
  it('answers images over the in-flight and byte limits with RESOURCE_EXHAUSTED and classifies the rest', async () => {
    const session = await rawSession(tight.url);
    try {
      const [hello] = await session.next(1);
      expect(hello).toMatchObject({
        type: 'hello',
        limits: { maxInFlight: 3, burst: 3, maxBytesInFlight: 1_000_000 },
      });
      session.send([
        wire('a'),
        wire('b'),
        wire('c', brotli('c')),
        wire('d', brotli('d')),
        wire('e', brotli('e')),
      ]);
      const answers = await session.next(5);
      expect(summary(answers)).toEqual([
        'a:ok',
        'b:validate:RESOURCE_EXHAUSTED',
        'c:ok',
        'd:ok',
        'e:validate:RESOURCE_EXHAUSTED',
      ]);
      const refusals = answers.flatMap((m) => (m.type === 'outcome' && !m.ok ? [m.message] : []));
      expect(refusals.join('\n')).toMatch(/b: 1204224 bytes in flight[^]*e: 3 images in flight/);
    } finally {
      session.close();
    }
  });

  it('answers each bad frame on its own, then limits the rate on the connection clock', async () => {
    const session = await rawSession(tight.url);
    try {
      await session.next(1);
      const bad = [
        'not a frame',
        wire('bad-md5', { md5: 'XYZ' }),
        wire('bad id with spaces'),
        wire('short', { data: new Uint8Array(10) }),
        Uint8Array.of(9, 0, 0, 0, 0),
      ];
      session.send([...bad, wire('r1', brotli('r1')), wire('r2', brotli('r2')), wire('r3', brotli('r3'))]);
      expect(summary(await session.next(8))).toEqual([
        'bad-md5:validate:INVALID_INPUT',
        'r1:ok',
        'r2:ok',
        'r3:ok',
        'rejected:INVALID_ID',
        'rejected:INVALID_INPUT',
        'rejected:UNIMPLEMENTED',
        'short:validate:INVALID_INPUT',
      ]);
      // The bucket held 3 and the connection's clock (a virtual one, never advanced) refills nothing.
      session.send([wire('r4', brotli('r4'))]);
      const [late] = await session.next(1);
      expect(late).toMatchObject({ id: 'r4', ok: false, code: 'RESOURCE_EXHAUSTED' });
      expect(late?.type === 'outcome' && !late.ok ? late.message : '').toMatch(/per second/);
    } finally {
      session.close();
    }
  });

  it('closes a connection whose frame is over twice maxImageBytes (1009) before reading it', async () => {
    const socket = new WebSocket(tight.url);
    const code = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the gateway kept the connection')), 20_000);
      socket.once('message', () => socket.send(new Uint8Array(2 * 603_136 + 2_100)));
      socket.once('close', (closeCode) => {
        clearTimeout(timer);
        resolve(closeCode);
      });
      socket.once('error', () => undefined);
    });
    expect(code).toBe(1009);
  });

  it('checks its options when forRoot is called', () => {
    const base = { path: '/athena', deploymentId: 'd', affiliate: 'a' };
    expect(() => AthenaGatewayModule.forRoot({ ...base, path: 'athena' })).toThrow(RangeError);
    expect(() => AthenaGatewayModule.forRoot({ ...base, deploymentId: '' })).toThrow(RangeError);
    expect(() => AthenaGatewayModule.forRoot({ ...base, limits: { maxInFlight: 0 } })).toThrow(RangeError);
    expect(() => AthenaGatewayModule.forRoot({ ...base, guards: [42 as never] })).toThrow(TypeError);
  });
});
