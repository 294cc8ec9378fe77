/**
 * `classifyEach` against the embedded Athena server over real grpc-js: one ClassifySingle call per
 * image, bounded concurrency, retries of model errors, and exactly one outcome per image.
 */
import { from, take } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyEach } from '../../src/operators/classifyEach.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/index.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import { count, expectExactlyOnce, inBatches, makeItems, run, trackedScheduler } from './classify.helpers.js';

let server: AthenaServer;
let client: AthenaClient;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  server = await startAthenaServer({ seed: 7, affiliates: ['acme'] });
  client = new AthenaClient({ address: server.address, insecure: true });
});

afterAll(async () => {
  client.close();
  await server.close();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('classifyEach against the embedded server', () => {
  it('classifies each image with its own call, batches taken apart', async () => {
    const calls = server.counters.classifySingleCalls;
    const { items, leases } = makeItems('each', 12);
    const { outcomes, error } = await run(
      from(inBatches(items, 5)),
      classifyEach(client, { affiliate: 'acme', concurrency: 4 }),
    );
    expect(error).toBeUndefined();
    expectExactlyOnce(outcomes, items, leases);
    expect(count(outcomes, (o) => o.ok)).toBe(12);
    expect(server.counters.classifySingleCalls - calls).toBe(12);
  });

  it('fails an affiliate the server does not permit, per image', async () => {
    const { items, leases } = makeItems('each-affiliate', 3);
    const { outcomes } = await run(from(items), classifyEach(client, { affiliate: 'other' }));
    expectExactlyOnce(outcomes, items, leases);
    for (const o of outcomes) {
      expect(o).toMatchObject({ ok: false, stage: 'classify', error: { code: 'AFFILIATE_NOT_PERMITTED' } });
    }
  });

  it('retries model errors under a policy, with no timer left behind', async () => {
    server.setFaults({ errorRate: 0.3 });
    const scheduler = trackedScheduler();
    const { items, leases } = makeItems('each-retry', 16);
    const { outcomes } = await run(
      from(items),
      classifyEach(client, {
        affiliate: 'acme',
        scheduler,
        retry: { maxAttempts: 8, initialDelayMs: 5, maxDelayMs: 20 },
      }),
    );
    server.clearFaults();
    expectExactlyOnce(outcomes, items, leases);
    expect(count(outcomes, (o) => o.ok)).toBeGreaterThanOrEqual(15);
    expect(scheduler.live).toBe(0);
  });

  it('ends quietly when unsubscribed with calls in flight', async () => {
    server.setFaults({ latencyMs: 100 });
    const { items } = makeItems('each-early', 8);
    const { outcomes } = await run(from(items), (source) =>
      source.pipe(classifyEach(client, { affiliate: 'acme', concurrency: 8 }), take(1)),
    );
    server.clearFaults();
    expect(outcomes).toHaveLength(1);
  });
});
