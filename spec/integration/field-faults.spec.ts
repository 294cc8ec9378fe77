/**
 * `classify` with its default reconnect policy through the faults a service shows in the field: a
 * restart of a few seconds, a graceful shutdown and a new server on the same port, and a stream that
 * goes silent on a live connection. Every image gets exactly one outcome, none is lost to a timeout,
 * and no timer is left.
 */
import { from, type Observable } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classify, type ClassifyInput, type ClassifyOptions } from '../../src/operators/classify.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/index.js';
import { startChildServer, type ChildServer } from '../support/child-server.js';
import type { ClassifyEvent } from '../../src/transport/contracts.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import {
  count,
  eventually,
  expectExactlyOnce,
  inBatches,
  makeItems,
  run,
  trackedScheduler,
  type RunResult,
} from './classify.helpers.js';

let server: AthenaServer;
let client: AthenaClient;
let deployments = 0;

beforeAll(async () => {
  server = await startAthenaServer({ seed: 7 });
  client = new AthenaClient({ address: server.address, insecure: true });
});

afterEach(() => server.clearFaults());

afterAll(async () => {
  client.close();
  await server.close();
});

/** A run with the operator's defaults (no reconnect option), checked for live timers at its end. */
async function fieldRun(
  input: Observable<ClassifyInput>,
  options: Partial<ClassifyOptions> = {},
  during?: (events: ClassifyEvent[]) => Promise<void>,
): Promise<RunResult> {
  const scheduler = trackedScheduler();
  const events: ClassifyEvent[] = [];
  const done = run(
    input,
    classify(client, {
      deploymentId: `field-${process.pid}-${++deployments}`,
      affiliate: 'acme',
      scheduler,
      events: { next: (e) => events.push(e) },
      ...options,
    }),
    events,
  );
  await during?.(events);
  const result = await done;
  expect(scheduler.live).toBe(0);
  return result;
}

const sent = (events: readonly ClassifyEvent[]) =>
  events.reduce((n, e) => n + (e.type === 'sent' ? e.items : 0), 0);

describe('classify in the field, with its default policy', () => {
  it('rides out a 3 s restart: refused streams, then the service back', async () => {
    const { items, leases } = makeItems('restart', 120);
    server.setFaults({ latencyMs: 20 });
    const { outcomes, events, error } = await fieldRun(from(inBatches(items, 8)), {}, async (events) => {
      await eventually(() => sent(events) >= 24, 10_000);
      server.setFaults({ unavailableForMs: 3_000 });
      server.abortStreams();
    });
    expect(error).toBeUndefined();
    expectExactlyOnce(outcomes, items, leases);
    expect(count(outcomes, (o) => o.ok)).toBe(items.length);
    expect(events.filter((e) => e.type === 'reconnect').length).toBeGreaterThan(1);
  }, 60_000);

  it('rides out a server shutdown (open calls cancelled) and a new server on the same port 2 s later', async () => {
    const local = await startAthenaServer({ seed: 8, closeGraceMs: 0 });
    const port = local.port;
    const own = new AthenaClient({ address: local.address, insecure: true });
    let next: AthenaServer | undefined;
    try {
      const { items, leases } = makeItems('shutdown', 120);
      local.setFaults({ latencyMs: 20 });
      const scheduler = trackedScheduler();
      const events: ClassifyEvent[] = [];
      const done = run(
        from(inBatches(items, 8)),
        classify(own, {
          deploymentId: `field-shutdown-${process.pid}`,
          affiliate: 'acme',
          scheduler,
          events: { next: (e) => events.push(e) },
        }),
        events,
      );
      await eventually(() => sent(events) >= 24, 10_000);
      await local.close(); // no grace: calls still open are cancelled (CANCELLED), as on a deploy
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      next = await startAthenaServer({ seed: 9, port });
      const { outcomes, error } = await done;
      expect(error).toBeUndefined();
      expectExactlyOnce(outcomes, items, leases);
      expect(count(outcomes, (o) => o.ok)).toBe(items.length);
      expect(events.some((e) => e.type === 'reconnect')).toBe(true);
      expect(scheduler.live).toBe(0);
    } finally {
      own.close();
      await next?.close();
      await local.close();
    }
  }, 60_000);

  it('reopens streams that go silent after some outputs, again and again, and loses no image', async () => {
    const { items, leases } = makeItems('silent', 48);
    // Every stream answers 8 images, then keeps the connection and reads on but answers nothing.
    server.setFaults({ stallAfterOutputs: 8 });
    const { outcomes, events, error } = await fieldRun(from(inBatches(items, 8)), {
      stallTimeoutMs: 500,
      itemTimeoutMs: 30_000,
    });
    expect(error).toBeUndefined();
    expectExactlyOnce(outcomes, items, leases);
    expect(count(outcomes, (o) => o.ok)).toBe(items.length);
    expect(events.filter((e) => e.type === 'stall').length).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.type === 'resent')).toBe(true);
  }, 60_000);
});

describe('classify in the field, against a server process', () => {
  let child: ChildServer;
  let own: AthenaClient;

  beforeAll(async () => {
    child = await startChildServer({ faults: { latencyMs: 20 } });
    own = new AthenaClient({ address: child.address, insecure: true });
  }, 60_000);

  afterAll(async () => {
    own.close();
    await child.stop();
  });

  async function childRun(prefix: string, n: number, fault: (events: ClassifyEvent[]) => Promise<void>) {
    const { items, leases } = makeItems(prefix, n);
    const scheduler = trackedScheduler();
    const events: ClassifyEvent[] = [];
    const done = run(
      from(inBatches(items, 8)),
      classify(own, {
        deploymentId: `field-${prefix}-${process.pid}`,
        affiliate: 'acme',
        scheduler,
        events: { next: (e) => events.push(e) },
      }),
      events,
    );
    await eventually(() => sent(events) >= 24, 20_000);
    await fault(events);
    const result = await done;
    expect(scheduler.live).toBe(0);
    expect(result.error).toBeUndefined();
    expectExactlyOnce(result.outcomes, items, leases);
    expect(count(result.outcomes, (o) => o.ok)).toBe(n);
    return result;
  }

  it('rides out the server process killed and started again on the same port 2 s later', async () => {
    const { events } = await childRun('killed', 160, async () => {
      await child.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await child.restart({ faults: { latencyMs: 20 } });
    });
    expect(events.some((e) => e.type === 'reconnect')).toBe(true);
  }, 90_000);

  it('waits for a server that is down when the run starts, and writes nothing into the outage', async () => {
    await child.kill('SIGKILL');
    const { items, leases } = makeItems('down', 48);
    const events: ClassifyEvent[] = [];
    const scheduler = trackedScheduler();
    const done = run(
      from(inBatches(items, 8)),
      classify(own, {
        deploymentId: `field-down-${process.pid}`,
        affiliate: 'acme',
        scheduler,
        events: { next: (e) => events.push(e) },
      }),
      events,
    );
    await eventually(() => events.filter((e) => e.type === 'reconnect').length >= 2, 20_000);
    expect(sent(events)).toBe(0);
    await child.restart({ faults: { latencyMs: 20 } });
    const { outcomes, error } = await done;
    expect(error).toBeUndefined();
    expectExactlyOnce(outcomes, items, leases);
    expect(count(outcomes, (o) => o.ok)).toBe(48);
    // Every image went out once, after the server came back: none was written into a failing call.
    expect(sent(events)).toBe(48);
    expect(events.some((e) => e.type === 'resent')).toBe(false);
    expect(scheduler.live).toBe(0);
  }, 90_000);

  it('rides out a server process frozen for 3 s (SIGSTOP), then thawed', async () => {
    await childRun('frozen', 120, async () => {
      child.pause();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      child.resume();
    });
  }, 90_000);
});

describe('classify against a stream the server stalls', () => {
  it('detects a stream silent from the start, reopens, and takes the withheld outputs once', async () => {
    const { items, leases } = makeItems('stalled', 40);
    server.setFaults({ stall: true });
    const { outcomes, error } = await fieldRun(
      from(inBatches(items, 8)),
      { stallTimeoutMs: 400 },
      async (events) => {
        await eventually(() => events.some((e) => e.type === 'stall'), 20_000);
        server.clearFaults();
      },
    );
    expect(error).toBeUndefined();
    expectExactlyOnce(outcomes, items, leases);
    expect(count(outcomes, (o) => o.ok)).toBe(items.length);
  }, 60_000);
});
