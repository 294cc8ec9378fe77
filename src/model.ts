/**
 * The railway: every input image travels as an {@link ImageItem} until it becomes exactly one
 * {@link Outcome}: a {@link Classified} result or an {@link ItemFailure}. Operators return new
 * objects and never mutate the ones they receive.
 */
import type { AthenaError } from './errors.js';
import { HashType, ImageFormat, RequestEncoding, type ImageHash } from './generated/athena/models.js';

export { HashType, ImageFormat, RequestEncoding };
export type { ImageHash };

/** Where an item failed. */
export type FailureStage =
  | 'read'
  | 'detect'
  | 'hash'
  | 'decode'
  | 'resize'
  | 'compress'
  | 'correlate'
  | 'validate'
  | 'classify'
  | 'timeout'
  | 'transport';

/**
 * A credit of the flow-control window an item holds from the moment its bytes were read until its
 * outcome is emitted. Releasing it lets the source read one more item. Releasing twice is harmless.
 */
export interface Lease {
  release(): void;
  /**
   * The source (one subscription of it) the lease comes from; every lease of that subscription
   * shares it. Absent on leases made by other code.
   *
   * `unread()` is the number of inputs the source has not pulled yet, when it knows it, and
   * `undefined` when it does not: a list (`fromFiles`, `fromBuffers` or `fromUrls` over an array or a
   * Set) knows its length, so it answers length minus the inputs pulled; a directory walk, a stream
   * or an iterable of unknown length answers `undefined` until it has been read to its end, and 0
   * from then on. Inputs pulled and still being read count as read. The answer stays valid after the
   * subscription ended, which is when a run that failed needs it: how many inputs were never read.
   */
  readonly source?: { unread(): number | undefined };
}

/** Fields shared by everything that travels on the railway for one input image. */
export interface ItemBase {
  /** Where the image came from: a file path, a URL with its query string redacted, or a buffer name. */
  readonly ref: string;
  /** Correlation id, once `correlate` has given one. */
  readonly correlationId?: string;
  /** The position of the item in its source, counted from 0. */
  readonly index?: number;
  /** Free user data carried along unchanged. */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** The flow-control credit this item holds (see {@link Lease}). */
  readonly lease?: Lease;
  /**
   * The image's telemetry, when its source records any (see `ImageTelemetryOptions` and
   * docs/observability.md): operators report their step onto it, `classify` ends it. Left out of JSON.
   */
  readonly trace?: ImageTrace;
}

/** An image on its way to the service. */
export interface ImageItem extends ItemBase {
  readonly kind: 'image';
  /** The current bytes: the original file, then the prepared pixels, then maybe their Brotli form. */
  readonly data: Uint8Array;
  /** Format of the bytes in `data` once decoded from `encoding`. */
  readonly format: ImageFormat;
  /** How `data` is encoded on the wire. */
  readonly encoding: RequestEncoding;
  /** Digests of the ORIGINAL bytes, computed before any transformation. */
  readonly hashes: readonly ImageHash[];
  /** Size of the original image in pixels, once decoded. */
  readonly width?: number;
  readonly height?: number;
}

/** An input that failed, with the stage it failed at. */
export interface ItemFailure extends ItemBase {
  readonly kind: 'failure';
  readonly ok: false;
  readonly stage: FailureStage;
  readonly error: AthenaError;
}

/** One label with its weight, as the service sent it (a label sent without weight has weight 0). */
export interface LabelWeight {
  readonly label: string;
  readonly weight: number;
}

/** A classified image. */
export interface Classified extends ItemBase {
  readonly kind: 'classified';
  readonly ok: true;
  readonly correlationId: string;
  /** Labels in the order the service sent them. */
  readonly classifications: readonly LabelWeight[];
  /** The same labels by name. A label the service left out is absent here too. */
  readonly labels: Readonly<Record<string, number>>;
  /** True when the result came from a cache instead of the service. */
  readonly cached?: boolean;
}

/** The one result every input image ends as. */
export type Outcome = Classified | ItemFailure;

/** What item-level operators take and give. */
export type ItemOrFailure = ImageItem | ItemFailure;

/** Items grouped for one `ClassifyRequest`. */
export interface ImageBatch {
  readonly kind: 'batch';
  readonly items: readonly ImageItem[];
  /** Sum of the items' data sizes in bytes. */
  readonly bytes: number;
}

/** Anything the railway carries. */
export type RailwayValue = ImageItem | ItemFailure | Classified | ImageBatch;

export function isImageItem(value: RailwayValue): value is ImageItem {
  return value.kind === 'image';
}

export function isFailure(value: RailwayValue): value is ItemFailure {
  return value.kind === 'failure';
}

export function isClassified(value: RailwayValue): value is Classified {
  return value.kind === 'classified';
}

export function isBatch(value: RailwayValue): value is ImageBatch {
  return value.kind === 'batch';
}

/** Builds an image item with defaults for what is not known yet. */
export function imageItem(
  init: Pick<ImageItem, 'ref' | 'data'> & Partial<Omit<ImageItem, 'kind' | 'ref' | 'data'>>,
): ImageItem {
  return {
    format: ImageFormat.IMAGE_FORMAT_UNSPECIFIED,
    encoding: RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED,
    hashes: [],
    ...init,
    kind: 'image',
  };
}

/**
 * Turns an item (or anything carrying `ref`) into a failure at `stage`, keeping its ref,
 * correlation id, index, meta, lease and trace.
 */
export function toFailure(item: ItemBase, stage: FailureStage, error: AthenaError): ItemFailure {
  const failure: {
    -readonly [K in keyof ItemFailure]: ItemFailure[K];
  } = { kind: 'failure', ok: false, ref: item.ref, stage, error };
  if (item.correlationId !== undefined) failure.correlationId = item.correlationId;
  if (item.index !== undefined) failure.index = item.index;
  if (item.meta !== undefined) failure.meta = item.meta;
  if (item.lease !== undefined) failure.lease = item.lease;
  if (item.trace !== undefined) failure.trace = item.trace;
  return failure;
}

/** Labels keyed by name from a list, the first occurrence of a label winning. */
export function labelsOf(classifications: readonly LabelWeight[]): Record<string, number> {
  const labels: Record<string, number> = {};
  for (const { label, weight } of classifications) {
    if (!(label in labels)) labels[label] = weight;
  }
  return labels;
}

/** The steps of an image that its trace records, each as a child span `athena.image.<phase>`. */
export type ImagePhase = 'read' | 'hash' | 'prepare' | 'compress';

/**
 * The telemetry of one image, carried by the item (`trace`) from the source that read it to its
 * outcome. Sources create it when telemetry is on; operators report their step onto it; `classify`
 * (or `classifyEach`) ends it with the image's outcome. Every method is cheap, never throws, and
 * does nothing once the trace has ended.
 */
export interface ImageTrace {
  /** The trace's clock: milliseconds since the epoch, with fractions. */
  now(): number;
  /** Records step `phase`, from `startedAt` (a `now()`) to now; `error` is a failure's code. */
  phase(phase: ImagePhase, startedAt: number, error?: string): void;
  /** The image was handed to the classifier (with its correlation id): the wait for its output begins. */
  waiting(correlationId?: string): void;
  /** The image was written on a stream connection (an OpenTelemetry span, linked from the image's). */
  written(stream: unknown): void;
  /**
   * The image's outcome: ends the wait and the image span, and records `athena.client.image.duration`.
   * Without an outcome (the run ended first) the spans end and no duration is recorded.
   */
  end(outcome?: ImageTraceOutcome): void;
  /** Traces stay out of JSON: `JSON.stringify` leaves the property out. */
  toJSON(): undefined;
}

/** What {@link ImageTrace.end} needs of an outcome. */
export interface ImageTraceOutcome {
  readonly ok: boolean;
  readonly stage?: string;
  readonly error?: { readonly code: string };
}
