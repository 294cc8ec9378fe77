/**
 * The library's usual pipeline from read items to outcomes (hashImage, the original digests in
 * `meta`, resize, compress, correlate, batch, classify), shared by `athena-rx classify` and the
 * queue worker so both send the same requests. Not exported: a composition of the public operators,
 * which users assemble themselves.
 */
import { map, type Observer, type OperatorFunction } from 'rxjs';
import type { ItemOrFailure, Outcome } from '../model.js';
import { batch } from './batch.js';
import { classify } from './classify.js';
import { compress } from './compress.js';
import { correlate } from './correlate.js';
import { hashImage } from './hashImage.js';
import { resize } from './resize.js';
import type { AthenaClient } from '../transport/AthenaClient.js';
import type { ClassifyEvent } from '../transport/contracts.js';
import type { ImageTelemetryOptions } from '../telemetry/options.js';
import { digestsMeta } from '../internal/journal/record.js';

/** What the pipeline needs beyond its items. */
export interface PipelineOptions {
  readonly client: AthenaClient;
  readonly deploymentId: string;
  readonly affiliate: string;
  /** Images decoded and resized at once. */
  readonly concurrency: number;
  /** `resize`'s budget of pixels decoded at once; none when absent. */
  readonly maxPixelsInFlight?: number;
  /** `resize`'s `releaseInput`: only where the items' bytes are the pipeline's own reads. */
  readonly releaseInput?: boolean;
  readonly maxInFlight: number;
  readonly batchSize: number;
  readonly quality: number;
  readonly resize: 'exact' | 'fast';
  /** Events of the classify stream (progress counts them). */
  readonly events?: Partial<Observer<ClassifyEvent>>;
  /** `classify`'s telemetry (spans, metrics, `traceImages`); the items carry their own traces. */
  readonly telemetry?: ImageTelemetryOptions;
}

/** Read items in, one outcome per item out. */
export function classifyPipeline(options: PipelineOptions): OperatorFunction<ItemOrFailure, Outcome> {
  return (items) =>
    items.pipe(
      hashImage(),
      // The digests of the original bytes travel to the outcome, for the records written of it.
      map((v) => (v.kind === 'image' ? { ...v, meta: { ...v.meta, digests: digestsMeta(v.hashes) } } : v)),
      resize({
        mode: options.resize,
        concurrency: options.concurrency,
        ...(options.maxPixelsInFlight === undefined ? {} : { maxPixelsInFlight: options.maxPixelsInFlight }),
        ...(options.releaseInput === undefined ? {} : { releaseInput: options.releaseInput }),
      }),
      compress({ quality: options.quality }),
      correlate(),
      batch({ size: options.batchSize }),
      classify(options.client, {
        deploymentId: options.deploymentId,
        affiliate: options.affiliate,
        maxInFlight: options.maxInFlight,
        ...(options.events === undefined ? {} : { events: options.events }),
        ...options.telemetry,
      }),
    );
}
