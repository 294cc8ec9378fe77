/**
 * The metric instruments of athena-rx, created once per meter: durations in milliseconds, sizes in
 * bytes, counts as counters (see docs/observability.md for names, units and attributes).
 */
import type { Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';

/** Every instrument athena-rx records to. */
export interface Instruments {
  /** `athena.client.rpc.duration` (ms): one RPC, or one Classify stream connection, open to end. */
  readonly rpcDuration: Histogram;
  /** `athena.client.classify_single.duration` (ms): `classifySingle`, subscribe to answer, waits included. */
  readonly classifySingleDuration: Histogram;
  /** `athena.client.auth.duration` (ms): waiting for the access token before a call. */
  readonly authDuration: Histogram;
  /** `athena.client.prepare.duration` (ms): one image's preparation by `resize` (decode and resize). */
  readonly prepareDuration: Histogram;
  /** `athena.client.image.duration` (ms): one image, from the read by its source to its outcome. */
  readonly imageDuration: Histogram;
  /** `athena.client.request.payload_size` (By): image bytes of one request. */
  readonly payloadSize: Histogram;
  /** `athena.client.images` ({image}): outcomes emitted by `classify`, by outcome, stage and code. */
  readonly images: Counter;
  /** `athena.client.inflight` ({image}): images taken in by `classify` and not yet emitted. */
  readonly inflight: UpDownCounter;
  /** `athena.client.reconnects` ({reconnect}): Classify streams opened again after a break or stall. */
  readonly reconnects: Counter;
  /** `athena.client.known_hash_matches` ({image}): classified images matching a known MD5 or SHA1 hash. */
  readonly knownHashMatches: Counter;
}

const cache = new WeakMap<Meter, Instruments>();

/** The instruments of `meter`, created on first use. */
export function instrumentsOf(meter: Meter): Instruments {
  let found = cache.get(meter);
  if (found !== undefined) return found;
  const ms = (name: string, description: string) => meter.createHistogram(name, { unit: 'ms', description });
  found = {
    rpcDuration: ms('athena.client.rpc.duration', 'Duration of one RPC or Classify stream connection'),
    classifySingleDuration: ms(
      'athena.client.classify_single.duration',
      'Duration of classifySingle, waits for the channel and the token included',
    ),
    authDuration: ms('athena.client.auth.duration', 'Time spent obtaining the access token for a call'),
    prepareDuration: ms('athena.client.prepare.duration', 'Preparation of one image: decode and resize'),
    imageDuration: ms('athena.client.image.duration', 'One image, from its read to its outcome'),
    payloadSize: meter.createHistogram('athena.client.request.payload_size', {
      unit: 'By',
      description: 'Image bytes in one request',
    }),
    images: meter.createCounter('athena.client.images', {
      unit: '{image}',
      description: 'Outcomes emitted by classify',
    }),
    inflight: meter.createUpDownCounter('athena.client.inflight', {
      unit: '{image}',
      description: 'Images taken in by classify and not yet emitted',
    }),
    reconnects: meter.createCounter('athena.client.reconnects', {
      unit: '{reconnect}',
      description: 'Classify streams opened again after a break or a stall',
    }),
    knownHashMatches: meter.createCounter('athena.client.known_hash_matches', {
      unit: '{image}',
      description: 'Classified images that matched a known MD5 or SHA1 hash',
    }),
  };
  cache.set(meter, found);
  return found;
}
