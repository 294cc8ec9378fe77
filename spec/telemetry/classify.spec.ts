/**
 * `classify`'s telemetry against the embedded server over real grpc-js, recorded by the OpenTelemetry
 * SDK in memory: one span per stream connection with the RPC attributes and final status, events on
 * injected resets, stalls, global errors and keepalives, and metrics equal to the counts of the run.
 */
import { context, metrics, ROOT_CONTEXT, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { concatMap, from, of, timer, map } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, HashType } from '../../src/generated/athena/models.js';
import type { Outcome } from '../../src/model.js';
import { classify, type ClassifyOptions, type ClassifyInput } from '../../src/operators/classify.js';
import { loadOtelApi } from '../../src/telemetry/api.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/index.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import type { ClassifyEvent } from '../../src/transport/contracts.js';
import { count, eventually, inBatches, makeItems, run } from '../integration/classify.helpers.js';
import { sdk, type Sdk } from '../support/otel.js';

const KNOWN = '0123456789abcdef0123456789abcdef';
const SPAN = 'athena.ClassifierService/Classify';

let server: AthenaServer;
let client: AthenaClient;
let port: number;
let deployments = 0;

beforeAll(async () => {
  server = await startAthenaServer({ seed: 7, knownHashes: [KNOWN] });
  client = new AthenaClient({ address: server.address, insecure: true });
  port = Number(server.address.split(':').pop());
});

afterEach(async () => {
  server.clearFaults();
  await eventually(() => server.counters.streamsActive === 0, 5_000);
});

afterAll(async () => {
  client.close();
  await server.close();
});

async function traced(
  input: ClassifyInput[] | ReturnType<typeof from<ClassifyInput[]>>,
  options: Partial<ClassifyOptions> = {},
  otel: Sdk = sdk(),
) {
  const events: ClassifyEvent[] = [];
  const source = Array.isArray(input) ? from(input) : input;
  const result = await run(
    source,
    classify(client, {
      deploymentId: `otel-${process.pid}-${++deployments}`,
      affiliate: 'acme',
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      events: { next: (e) => events.push(e) },
      tracerProvider: otel.tracerProvider,
      meterProvider: otel.meterProvider,
      ...options,
    }),
    events,
  );
  return { ...result, otel };
}

const sum = (events: readonly ClassifyEvent[], type: ClassifyEvent['type']) =>
  events.filter((e) => e.type === type).length;
const spanEvents = (otel: Sdk, name: string) =>
  otel.spans().flatMap((s) => s.events.filter((e) => e.name === name));

/** A context manager for synchronous code: enough to see what is active when `classify` is subscribed. */
function syncContextManager(): ContextManager {
  let active: Context = ROOT_CONTEXT;
  const manager: ContextManager = {
    active: () => active,
    with(ctx, fn, thisArg, ...args) {
      const before = active;
      active = ctx;
      try {
        return fn.call(thisArg, ...args);
      } finally {
        active = before;
      }
    },
    bind: (_ctx, target) => target,
    enable: () => manager,
    disable: () => manager,
  };
  return manager;
}

describe('classify telemetry', () => {
  it('records one span for a clean run, and metrics equal to the counts of the run', async () => {
    server.setFaults({ errorRate: 0.25 });
    const { items } = makeItems('otel-clean', 32);
    const hashed = items.map((item, i) => ({
      ...item,
      hashes: [{ type: HashType.HASH_TYPE_MD5, value: i % 4 === 0 ? KNOWN : 'f'.repeat(32) }],
    }));
    const { outcomes, events, error, otel } = await traced(inBatches(hashed, 8));
    expect(error).toBeUndefined();
    expect(outcomes).toHaveLength(32);

    const spans = otel.spans();
    expect(spans.map((s) => s.name)).toEqual([SPAN]);
    const span = spans[0]!;
    expect(span.kind).toBe(2); // CLIENT
    expect(span.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.service': 'athena.ClassifierService',
      'rpc.method': 'Classify',
      'server.address': '127.0.0.1',
      'server.port': port,
      'rpc.grpc.status_code': 0,
    });
    expect(span.status.code).toBe(0); // unset: the call ended OK

    const classified = count(outcomes, (o) => o.ok);
    const failed = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    expect(failed.length).toBeGreaterThan(0);
    expect(classified).toBeGreaterThan(0);
    expect(await otel.total('athena.client.images', { 'athena.outcome': 'classified' })).toBe(classified);
    expect(
      await otel.total('athena.client.images', { 'athena.outcome': 'failed', 'athena.stage': 'classify' }),
    ).toBe(failed.filter((o) => o.stage === 'classify').length);
    const known = outcomes.filter((o) => o.ok && o.labels['KnownCSAM-MD5'] === 1).length;
    expect(known).toBeGreaterThan(0);
    expect(await otel.total('athena.client.known_hash_matches')).toBe(known);
    expect(await otel.total('athena.client.inflight')).toBe(0);
    expect(await otel.total('athena.client.reconnects')).toBe(0);
    const sent = events.filter((e) => e.type === 'sent');
    const payload = await otel.points('athena.client.request.payload_size');
    expect(payload.reduce((n, p) => n + (p.count ?? 0), 0)).toBe(sent.length);
    expect(payload.reduce((n, p) => n + p.value, 0)).toBe(sent.reduce((n, e) => n + e.bytes, 0));
    const rpc = await otel.points('athena.client.rpc.duration');
    expect(
      rpc.map((p) => [p.attributes['rpc.method'], p.attributes['rpc.grpc.status_code'], p.count]),
    ).toEqual([['Classify', 0, 1]]);
    await otel.shutdown();
  });

  it('ends the span of a reset stream with its status and a reconnect event, and counts reconnects', async () => {
    server.setFaults({ resetAfterOutputs: 10, latencyMs: [0, 5] });
    const { items } = makeItems('otel-reset', 48);
    const { outcomes, events, error, otel } = await traced(inBatches(items, 8));
    expect(error).toBeUndefined();
    expect(count(outcomes, (o) => o.ok)).toBe(48);
    const reconnects = sum(events, 'reconnect');
    expect(reconnects).toBeGreaterThan(0);
    expect(await otel.total('athena.client.reconnects')).toBe(reconnects);
    expect(spanEvents(otel, 'reconnect')).toHaveLength(reconnects);
    const spans = otel.spans();
    expect(spans.length).toBeGreaterThanOrEqual(reconnects + 1);
    const reset = spans.filter((s) => s.attributes['rpc.grpc.status_code'] === 13); // INTERNAL
    expect(reset.length).toBeGreaterThan(0);
    for (const span of reset) expect(span.status).toEqual({ code: 2, message: 'INTERNAL' });
    // A reconnect is decided when a call breaks with images unanswered: it lands on that call's span.
    for (const span of spans.filter((s) => s.events.some((e) => e.name === 'reconnect'))) {
      expect(span.attributes['rpc.grpc.status_code']).toBe(13);
    }
    expect(await otel.total('athena.client.images', { 'athena.outcome': 'classified' })).toBe(48);
    expect(await otel.total('athena.client.inflight')).toBe(0);
    await otel.shutdown();
  }, 60_000);

  it('marks a stalled stream on its span: a stall event, then cancelled with status STALLED', async () => {
    server.setFaults({ stallAfterOutputs: 8 });
    const { items } = makeItems('otel-stall', 24);
    const { outcomes, events, error, otel } = await traced(inBatches(items, 8), { stallTimeoutMs: 500 });
    expect(error).toBeUndefined();
    expect(count(outcomes, (o) => o.ok)).toBe(24);
    const stalls = sum(events, 'stall');
    expect(stalls).toBeGreaterThan(0);
    const stalled = otel.spans().filter((s) => s.events.some((e) => e.name === 'stall'));
    expect(stalled).toHaveLength(stalls);
    for (const span of stalled) {
      expect(span.attributes['rpc.grpc.status_code']).toBe(1); // CANCELLED by the client
      expect(span.status).toEqual({ code: 2, message: 'STALLED' });
      expect(span.events.map((e) => e.name)).toEqual(expect.arrayContaining(['stall', 'reconnect']));
    }
    expect(await otel.total('athena.client.reconnects')).toBe(sum(events, 'reconnect'));
    await otel.shutdown();
  }, 60_000);

  it('puts global errors and keepalives on the stream span', async () => {
    server.setFaults({ globalError: { every: 2, code: ErrorCode.ERROR_CODE_MODEL_ERROR } });
    const { items } = makeItems('otel-global', 16);
    const batches = inBatches(items, 4);
    // A pause with nothing to write: the stream sends keepalives.
    const spaced = from(batches).pipe(concatMap((b, i) => (i === 2 ? timer(400).pipe(map(() => b)) : of(b))));
    // One batch in flight at a time, so that each global error answers the batch it was sent for.
    const { outcomes, events, error, otel } = await traced(spaced, { keepaliveMs: 100, maxInFlight: 4 });
    expect(error).toBeUndefined();
    expect(outcomes).toHaveLength(16);
    const globals = events.filter((e) => e.type === 'global-error');
    expect(globals.length).toBeGreaterThan(0);
    const onSpans = spanEvents(otel, 'global_error');
    expect(onSpans.map((e) => e.attributes?.['athena.items'])).toEqual(globals.map((e) => e.items));
    expect(sum(events, 'keepalive')).toBeGreaterThan(0);
    expect(spanEvents(otel, 'keepalive')).toHaveLength(sum(events, 'keepalive'));
    const failed = count(outcomes, (o) => !o.ok && o.error.code === 'GLOBAL_ERROR');
    expect(failed).toBeGreaterThan(0);
    expect(
      await otel.total('athena.client.images', { 'athena.outcome': 'failed', 'error.type': 'GLOBAL_ERROR' }),
    ).toBe(failed);
    await otel.shutdown();
  }, 30_000);

  it('records to the global providers when none is given', async () => {
    expect(await loadOtelApi()).toBeDefined();
    const otel = sdk();
    trace.setGlobalTracerProvider(otel.tracerProvider);
    metrics.setGlobalMeterProvider(otel.meterProvider);
    try {
      const { items } = makeItems('otel-global-provider', 8);
      const { outcomes, error } = await traced(inBatches(items, 4), {
        tracerProvider: undefined,
        meterProvider: undefined,
      });
      expect(error).toBeUndefined();
      expect(otel.spans().map((s) => s.name)).toEqual([SPAN]);
      expect(await otel.total('athena.client.images')).toBe(outcomes.length);
    } finally {
      trace.disable();
      metrics.disable();
      await otel.shutdown();
    }
  });

  it('makes the active span when classify is subscribed the parent of its stream spans', async () => {
    expect(await loadOtelApi()).toBeDefined();
    context.setGlobalContextManager(syncContextManager());
    const otel = sdk();
    try {
      const parent = otel.tracerProvider.getTracer('spec').startSpan('batch job');
      const { items } = makeItems('otel-parent', 8);
      const result = context.with(trace.setSpan(context.active(), parent), () =>
        traced(inBatches(items, 4), {}, otel),
      );
      const { error } = await result;
      parent.end();
      expect(error).toBeUndefined();
      const stream = otel.spans().find((s) => s.name === SPAN);
      expect(stream?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(stream?.spanContext().traceId).toBe(parent.spanContext().traceId);
    } finally {
      context.disable();
      await otel.shutdown();
    }
  });

  it('with traceImages, records a span per image linked to the stream spans it was written on', async () => {
    server.setFaults({ resetAfterOutputs: 10, errorRate: 0.2, latencyMs: [0, 5] });
    const { items } = makeItems('otel-images', 40);
    const { outcomes, events, error, otel } = await traced(inBatches(items, 8), { traceImages: true });
    expect(error).toBeUndefined();
    expect(outcomes).toHaveLength(40);
    const streams = otel.spans().filter((s) => s.name === SPAN);
    const streamIds = new Set(streams.map((s) => s.spanContext().spanId));
    const images = otel.spans().filter((s) => s.name === 'athena.image');
    expect(images.map((s) => s.attributes['athena.correlation_id']).sort()).toEqual(
      items.map((i) => i.correlationId).sort(),
    );
    for (const span of images) {
      expect(span.attributes['athena.ref']).toBeUndefined();
      expect(span.links.length).toBeGreaterThan(0);
      expect(span.links.length).toBe(span.events.filter((e) => e.name === 'written').length);
      for (const link of span.links) expect(streamIds.has(link.context.spanId)).toBe(true);
      const outcome = outcomes.find((o) => o.correlationId === span.attributes['athena.correlation_id']);
      expect(span.attributes['athena.outcome']).toBe(outcome?.ok ? 'classified' : 'failed');
      expect(span.status.code).toBe(outcome?.ok ? 0 : 2);
    }
    expect(count(outcomes, (o) => !o.ok)).toBeGreaterThan(0);
    // Images written again after a reset carry a link to each connection that took them.
    if (sum(events, 'resent') > 0) expect(images.some((s) => s.links.length > 1)).toBe(true);
    await otel.shutdown();
  }, 60_000);

  it('puts an image ref on its span only with traceRefs', async () => {
    const { items } = makeItems('otel-refs', 4);
    const { error, otel } = await traced(inBatches(items, 4), { traceImages: true, traceRefs: true });
    expect(error).toBeUndefined();
    const refs = otel
      .spans()
      .filter((s) => s.name === 'athena.image')
      .map((s) => s.attributes['athena.ref']);
    expect(refs.sort()).toEqual(items.map((i) => i.ref).sort());
    await otel.shutdown();
  });

  it('refuses providers that are not providers when the operator is created', () => {
    const base = { deploymentId: 'd', affiliate: 'a' };
    expect(() => classify(client, { ...base, tracerProvider: {} as never })).toThrow(TypeError);
    expect(() => classify(client, { ...base, meterProvider: { getMeter: 1 } as never })).toThrow(TypeError);
    expect(() => classify(client, { ...base, traceImages: 'yes' as never })).toThrow(TypeError);
  });
});
