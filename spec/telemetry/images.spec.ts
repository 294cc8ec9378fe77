/**
 * Per-image traces through the whole pipeline, recorded by the OpenTelemetry SDK in memory against the
 * embedded server over real grpc-js: the source starts each image's trace at its read, `hashImage`,
 * `resize` and `compress` add child spans, `classify` (or `classifyEach`) the wait for the output and
 * the end, and the histograms `athena.client.prepare.duration` and `athena.client.image.duration`
 * count one value per image.
 */
import type { HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemOrFailure, Outcome } from '../../src/model.js';
import { batch } from '../../src/operators/batch.js';
import { classify } from '../../src/operators/classify.js';
import { classifyEach } from '../../src/operators/classifyEach.js';
import { compress } from '../../src/operators/compress.js';
import { correlate } from '../../src/operators/correlate.js';
import { hashImage } from '../../src/operators/hashImage.js';
import { resize } from '../../src/operators/resize.js';
import { fromBuffers } from '../../src/sources/fromBuffers.js';
import { loadOtelApi } from '../../src/telemetry/api.js';
import type { ImageTelemetryOptions } from '../../src/telemetry/options.js';
import { startAthenaServer, type AthenaServer } from '../../src/testing/index.js';
import { AthenaClient } from '../../src/transport/AthenaClient.js';
import { sdk, type Sdk } from '../support/otel.js';

const STREAM = 'athena.ClassifierService/Classify';

let server: AthenaServer;
let client: AthenaClient;
let photos: { name: string; data: Buffer }[];
let runs = 0;

beforeAll(async () => {
  expect(await loadOtelApi()).toBeDefined();
  server = await startAthenaServer({ seed: 11 });
  client = new AthenaClient({ address: server.address, insecure: true });
  const colours = ['#204080', '#80a040', '#c02020', '#f0f0f0', '#101010', '#7070ff'];
  photos = await Promise.all(
    colours.map(async (background, i) => ({
      name: `photo-${i}.png`,
      data: await sharp({ create: { width: 64 + 8 * i, height: 48, channels: 3, background } })
        .png()
        .toBuffer(),
    })),
  );
});

afterAll(async () => {
  client.close();
  await server.close();
});

/** The pipeline of the docs, from buffers to outcomes; the last input does not decode. */
function pipeline(
  otel: Sdk | undefined,
  options: ImageTelemetryOptions,
  classifier: 'stream' | 'single' = 'stream',
): Promise<Outcome[]> {
  const providers = otel ? { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider } : {};
  const inputs = [...photos, { name: 'junk.png', data: Buffer.from('not an image at all') }];
  const deploymentId = `otel-images-${process.pid}-${++runs}`;
  const classifying: OperatorFunction<ItemOrFailure, Outcome> =
    classifier === 'stream'
      ? (items) =>
          items.pipe(
            batch({ size: 3, maxWaitMs: 20 }),
            classify(client, { deploymentId, affiliate: 'acme', ...providers }),
          )
      : classifyEach(client, { affiliate: 'acme', concurrency: 2 });
  return lastValueFrom(
    fromBuffers(inputs, { ...providers, ...options }).pipe(
      hashImage(),
      resize({ concurrency: 2 }),
      compress({ concurrency: 2 }),
      correlate(),
      classifying,
      toArray(),
    ),
  );
}

const ns = (t: HrTime): bigint => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
const childrenOf = (otel: Sdk, parent: ReadableSpan) =>
  otel
    .spans()
    .filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId)
    .sort((a, b) => (ns(a.startTime) < ns(b.startTime) ? -1 : 1));

/** Each span starts after the one before it ended, all inside the image span. */
function expectInOrder(image: ReadableSpan, steps: readonly ReadableSpan[]): void {
  let at = ns(image.startTime);
  for (const step of steps) {
    expect(ns(step.startTime), step.name).toBeGreaterThanOrEqual(at);
    expect(ns(step.endTime), step.name).toBeGreaterThanOrEqual(ns(step.startTime));
    at = ns(step.endTime);
  }
  expect(ns(image.endTime)).toBeGreaterThanOrEqual(at);
}

describe('per-image traces', () => {
  it('records each image from read to outcome, its steps as children in order, linked to its stream span', async () => {
    const otel = sdk();
    const outcomes = await pipeline(otel, { traceImages: true });
    expect(outcomes).toHaveLength(photos.length + 1);
    const failed = outcomes.filter((o) => !o.ok);
    expect(failed.map((o) => (o.ok ? '' : `${o.ref} ${o.stage}`))).toEqual(['junk.png decode']);

    const spans = otel.spans();
    const streams = new Set(spans.filter((s) => s.name === STREAM).map((s) => s.spanContext().spanId));
    expect(streams.size).toBeGreaterThan(0);
    const images = spans.filter((s) => s.name === 'athena.image');
    expect(images).toHaveLength(photos.length + 1);
    for (const image of images) {
      expect(image.attributes['athena.ref']).toBeUndefined();
      const steps = childrenOf(otel, image);
      const outcome = outcomes.find((o) => o.correlationId === image.attributes['athena.correlation_id']);
      if (outcome?.ok) {
        expect(steps.map((s) => s.name)).toEqual([
          'athena.image.read',
          'athena.image.hash',
          'athena.image.prepare',
          'athena.image.compress',
          'athena.image.wait',
        ]);
        expect(image.attributes['athena.outcome']).toBe('classified');
        expect(image.links.length).toBeGreaterThan(0);
        for (const link of image.links) expect(streams.has(link.context.spanId)).toBe(true);
        // The wait ends with the image: at its outcome.
        expect(ns(steps[4]!.endTime)).toBe(ns(image.endTime));
      } else {
        // The image that does not decode: read and hashed, failed in prepare, never sent.
        expect(steps.map((s) => s.name)).toEqual([
          'athena.image.read',
          'athena.image.hash',
          'athena.image.prepare',
        ]);
        expect(steps[2]!.status.code).toBe(2);
        expect(image.attributes).toMatchObject({ 'athena.outcome': 'failed', 'athena.stage': 'decode' });
        expect(image.status.code).toBe(2);
        expect(image.links).toHaveLength(0);
      }
      expect(steps.every((s) => s.spanContext().traceId === image.spanContext().traceId)).toBe(true);
      expectInOrder(image, steps);
    }
    expect(await otel.total('athena.client.images')).toBe(outcomes.length);
    await otel.shutdown();
  }, 30_000);

  it('counts one prepare duration and one image duration per image, by outcome', async () => {
    const otel = sdk();
    // Metrics need no traceImages: without it, no image span is recorded.
    const outcomes = await pipeline(otel, {});
    expect(otel.spans().filter((s) => s.name.startsWith('athena.image'))).toHaveLength(0);
    const prepare = await otel.points('athena.client.prepare.duration');
    expect(prepare.reduce((n, p) => n + (p.count ?? 0), 0)).toBe(photos.length + 1);
    expect(prepare.find((p) => p.attributes['error.type'] !== undefined)?.count).toBe(1);
    const image = await otel.points('athena.client.image.duration');
    const countOf = (outcome: string) =>
      image.filter((p) => p.attributes['athena.outcome'] === outcome).reduce((n, p) => n + (p.count ?? 0), 0);
    expect(countOf('classified')).toBe(outcomes.filter((o) => o.ok).length);
    expect(countOf('failed')).toBe(1);
    expect(image.every((p) => p.value >= 0)).toBe(true);
    await otel.shutdown();
  }, 30_000);

  it('puts refs on image spans only with traceRefs, and ends traces in classifyEach', async () => {
    const otel = sdk();
    const outcomes = await pipeline(otel, { traceImages: true, traceRefs: true }, 'single');
    expect(outcomes).toHaveLength(photos.length + 1);
    const images = otel.spans().filter((s) => s.name === 'athena.image');
    expect(images.map((s) => s.attributes['athena.ref']).sort()).toEqual(
      [...photos.map((p) => p.name), 'junk.png'].sort(),
    );
    for (const image of images.filter((s) => s.attributes['athena.outcome'] === 'classified')) {
      expect(childrenOf(otel, image).map((s) => s.name)).toContain('athena.image.wait');
    }
    expect(await otel.total('athena.client.image.duration')).toBeGreaterThan(0);
    await otel.shutdown();
  }, 30_000);
});
