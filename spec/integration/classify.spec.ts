/**
 * `classify` against the embedded Athena server over real grpc-js on loopback, with the server's fault
 * knobs: in every case each input gets exactly one outcome, no timer of the operator is left live, the
 * server sees the stream end, and nothing is rejected unhandled.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NEVER, Subject, concatMap, from, map, of, take, timer, type Observable } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/generated/athena/models.js';
import { imageItem, type ImageBatch } from '../../src/model.js';
import type { ClassifyEvent } from '../../src/transport/contracts.js';
import { classify, type ClassifyInput, type ClassifyOptions } from '../../src/operators/classify.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/index.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import {
  count,
  eventually,
  expectExactlyOnce,
  inBatches,
  makeItems,
  run,
  trackedScheduler,
} from './classify.helpers.js';

let server: AthenaServer;
let client: AthenaClient;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let deployments = 0;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  server = await startAthenaServer({ seed: 42 });
  client = new AthenaClient({ address: server.address, insecure: true });
});

afterEach(async () => {
  server.clearFaults();
  await eventually(() => server.counters.streamsActive === 0);
});

afterAll(async () => {
  client.close();
  await server.close();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

/** A run of `classify` on a fresh deployment, checked for live timers once it ended. */
async function classifyRun(input: Observable<ClassifyInput>, options: Partial<ClassifyOptions> = {}) {
  const scheduler = trackedScheduler();
  const events: ClassifyEvent[] = [];
  const result = await run(
    input,
    classify(client, {
      deploymentId: `it-classify-${process.pid}-${++deployments}`,
      affiliate: 'acme',
      scheduler,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      events: { next: (e) => events.push(e) },
      ...options,
    }),
    events,
  );
  expect(scheduler.live).toBe(0);
  return result;
}

const spaced = <T>(values: readonly T[], ms: number): Observable<T> =>
  from(values).pipe(concatMap((v, i) => (i === 0 ? of(v) : timer(ms).pipe(map(() => v)))));

describe('classify against the embedded server', () => {
  it('classifies every image once on one stream, and half-closes at the end', async () => {
    const { items, leases } = makeItems('clean', 64);
    const { outcomes, events, error } = await classifyRun(from(inBatches(items, 8)));
    expect(error).toBeUndefined();
    expectExactlyOnce(outcomes, items, leases);
    expect(count(outcomes, (o) => o.ok)).toBe(64);
    const first = outcomes.find((o) => o.ok);
    expect(first?.ok && Object.keys(first.labels)).toContain('UnknownCSAM-PCSAM');
    expect(events.filter((e) => e.type === 'sent')).toHaveLength(8);
    expect(events.filter((e) => e.type === 'reconnect')).toEqual([]);
  });

  it('reconnects when streams are reset every 10 outputs and re-sends what is unanswered', async () => {
    server.setFaults({ resetAfterOutputs: 10, latencyMs: [0, 5] });
    const duplicates = server.counters.duplicateCorrelationIds;
    const { items, leases } = makeItems('reset', 96);
    const { outcomes, events, error } = await classifyRun(from(inBatches(items, 8)));
    expect(error).toBeUndefined();
    expectExactlyOnce(outcomes, items, leases);
    expect(count(outcomes, (o) => o.ok)).toBe(96);
    expect(server.counters.resets).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'reconnect').length).toBeGreaterThan(0);
    // Inputs written again that reached the server come with ids it had seen (a stream reset right
    // after it opened takes some writes with it); outputs of the first sends still queued on the
    // deployment then come twice and are dropped.
    const resent = events.reduce((n, e) => n + (e.type === 'resent' ? e.items : 0), 0);
    const seenAgain = server.counters.duplicateCorrelationIds - duplicates;
    expect(seenAgain).toBeGreaterThan(0);
    expect(seenAgain).toBeLessThanOrEqual(resent);
    expect(events.some((e) => e.type === 'duplicate')).toBe(true);
  });

  it('waits out a server that refuses streams with UNAVAILABLE for a while', async () => {
    server.setFaults({ unavailableForMs: 400 });
    const { items, leases } = makeItems('unavailable', 24);
    const { outcomes, events, error } = await classifyRun(from(inBatches(items, 8)), {
      reconnect: { initialDelayMs: 100, maxDelayMs: 300, maxAttempts: 20 },
    });
    expect(error).toBeUndefined();
    expectExactlyOnce(outcomes, items, leases);
    expect(count(outcomes, (o) => o.ok)).toBe(24);
    expect(server.counters.streamsRefused).toBeGreaterThan(0);
    expect(
      events.some((e) => e.type === 'reconnect' && (e.error as { code?: string }).code === 'UNAVAILABLE'),
    ).toBe(true);
  });

  it('fails the items the model fails, and retries them under a policy', async () => {
    server.setFaults({ errorRate: 0.25 });
    const plain = makeItems('model', 48);
    const without = await classifyRun(from(inBatches(plain.items, 8)));
    expectExactlyOnce(without.outcomes, plain.items, plain.leases);
    const failed = without.outcomes.filter((o) => !o.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect(f).toMatchObject({ stage: 'classify', error: { code: 'MODEL_ERROR' } });

    const retried = makeItems('model-retry', 48);
    const withRetry = await classifyRun(from(inBatches(retried.items, 8)), {
      retry: { maxAttempts: 8, initialDelayMs: 10, maxDelayMs: 40 },
    });
    expectExactlyOnce(withRetry.outcomes, retried.items, retried.leases);
    expect(count(withRetry.outcomes, (o) => o.ok)).toBeGreaterThanOrEqual(47);
    expect(withRetry.events.filter((e) => e.type === 'retry').length).toBeGreaterThan(0);
  });

  it('never retries an image that is too large', async () => {
    const { items, leases } = makeItems('too-large', 8);
    const bad = { ...items[3], data: new Uint8Array(10), encoding: 1 } as (typeof items)[number];
    items[3] = bad;
    const duplicates = server.counters.duplicateCorrelationIds;
    const { outcomes } = await classifyRun(of(inBatches(items, 8)[0] as ClassifyInput), { retry: {} });
    expectExactlyOnce(outcomes, items, leases);
    expect(outcomes.filter((o) => !o.ok)).toMatchObject([
      { ref: bad.ref, stage: 'classify', error: { code: 'IMAGE_TOO_LARGE' } },
    ]);
    expect(server.counters.duplicateCorrelationIds).toBe(duplicates);
  });

  it('fails whole batches answered by a global error and goes on', async () => {
    server.setFaults({ globalError: { every: 3, code: ErrorCode.ERROR_CODE_UNSPECIFIED } });
    const before = server.counters.globalErrors;
    const { items, leases } = makeItems('global', 24);
    const { outcomes, error } = await classifyRun(spaced(inBatches(items, 4), 120), {
      itemTimeoutMs: 1000,
    });
    expect(error).toBeUndefined();
    expectExactlyOnce(outcomes, items, leases);
    const globals = server.counters.globalErrors - before;
    expect(globals).toBe(2);
    const failedBatches = new Set(
      outcomes
        .filter((o) => !o.ok && o.error.code === 'GLOBAL_ERROR')
        .map((o) => Math.floor((o.index ?? 0) / 4)),
    );
    expect(count(outcomes, (o) => !o.ok && o.error.code === 'GLOBAL_ERROR')).toBe(4 * globals);
    expect(failedBatches.size).toBe(globals);
    for (const o of outcomes) if (!o.ok) expect(['GLOBAL_ERROR', 'TIMEOUT']).toContain(o.error.code);
  });

  it('keeps input order with latency when asked', async () => {
    server.setFaults({ latencyMs: [0, 30] });
    const { items, leases } = makeItems('ordered', 40);
    const { outcomes } = await classifyRun(from(items), { ordered: true, maxInFlight: 16 });
    expectExactlyOnce(outcomes, items, leases);
    expect(outcomes.map((o) => o.index)).toEqual(items.map((i) => i.index));
  });

  it('times out the outputs the server drops', async () => {
    server.setFaults({ dropRate: 0.15 });
    const dropped = server.counters.dropped;
    const { items, leases } = makeItems('dropped', 48);
    // Long enough that only a dropped output times out, even on a loaded machine.
    const { outcomes } = await classifyRun(from(inBatches(items, 8)), { itemTimeoutMs: 4_000 });
    expectExactlyOnce(outcomes, items, leases);
    const timeouts = count(outcomes, (o) => !o.ok && o.stage === 'timeout');
    expect(timeouts).toBe(server.counters.dropped - dropped);
    expect(timeouts).toBeGreaterThan(0);
  });

  it('routes outputs another client receives on the same deployment apart', async () => {
    const deploymentId = `it-shared-${process.pid}`;
    const other = new AthenaClient({ address: server.address, insecure: true });
    const foreign: string[] = [];
    // The other client only listens: it joins the deployment with its first keepalive.
    const listener = NEVER.pipe(
      classify(other, {
        deploymentId,
        affiliate: 'acme',
        keepaliveMs: 20,
        foreign: { next: (o) => foreign.push(o.correlationId) },
      }),
    ).subscribe();
    await eventually(() =>
      server.deployments().some((d) => d.deploymentId === deploymentId && d.streams === 1),
    );

    const { items, leases } = makeItems('shared', 32);
    const { outcomes, events } = await classifyRun(from(inBatches(items, 4)), {
      deploymentId,
      itemTimeoutMs: 4_000, // only the outputs the other client took time out, even under load
    });
    listener.unsubscribe();
    other.close();
    expectExactlyOnce(outcomes, items, leases);
    const timedOut = outcomes.filter((o) => !o.ok && o.stage === 'timeout').map((o) => o.correlationId);
    expect(foreign.length).toBeGreaterThan(0);
    expect(foreign.sort()).toEqual([...timedOut].sort());
    expect(count(outcomes, (o) => o.ok) + foreign.length).toBe(32);
    expect(events.some((e) => e.type === 'foreign')).toBe(false);
  });

  it("lets go of each image's bytes once its outcome is out, while the stream stays open", async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const input = new Subject<ClassifyInput>();
    let answered = 0;
    const subscription = input
      .pipe(classify(client, { deploymentId: `it-release-${process.pid}`, affiliate: 'acme' }))
      .subscribe(() => (answered += 1));
    // Each item gets bytes of its own, referenced here only weakly, so nothing but classify can keep them.
    const { items: shapes } = makeItems('release', 48);
    const held: WeakRef<Uint8Array>[] = [];
    const send = (batch: ImageBatch): void => {
      const items = batch.items.map((item) => imageItem({ ...item, data: Buffer.from(item.data) }));
      for (const item of items) held.push(new WeakRef(item.data));
      input.next({ kind: 'batch', items, bytes: batch.bytes });
    };
    for (const [index, batch] of inBatches(shapes, 4).entries()) {
      send(batch);
      await eventually(() => answered === (index + 1) * 4);
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
    collect();
    expect(held.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
    expect(subscription.closed).toBe(false);
    input.complete();
    await eventually(() => subscription.closed);
  });

  it('cancels the stream and clears its timers when unsubscribed early', async () => {
    server.setFaults({ latencyMs: 20 });
    const scheduler = trackedScheduler();
    const { items } = makeItems('early', 64);
    const { outcomes } = await run(from(inBatches(items, 4)), (source) =>
      source.pipe(
        classify(client, {
          deploymentId: `it-early-${process.pid}`,
          affiliate: 'acme',
          scheduler,
          keepaliveMs: 50,
        }),
        take(5),
      ),
    );
    expect(outcomes).toHaveLength(5);
    expect(scheduler.live).toBe(0);
    await eventually(() => server.counters.streamsActive === 0);
  });

  it('fails every pending image at stage transport when the client is closed, then errors', async () => {
    server.setFaults({ latencyMs: 200 });
    const closing = new AthenaClient({ address: server.address, insecure: true });
    const scheduler = trackedScheduler();
    const { items, leases } = makeItems('closed', 16);
    setTimeout(() => closing.close(), 100);
    const { outcomes, error } = await run(
      from(inBatches(items, 4)),
      classify(closing, { deploymentId: `it-closed-${process.pid}`, affiliate: 'acme', scheduler }),
    );
    expect(error?.code).toBe('CLOSED');
    expectExactlyOnce(outcomes, items, leases);
    for (const o of outcomes)
      expect(o).toMatchObject({ ok: false, stage: 'transport', error: { code: 'CLOSED' } });
    expect(scheduler.live).toBe(0);
  });
});
