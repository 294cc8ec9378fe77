/**
 * The item side of `resize`, shared by Node's operator (sharp) and the browser's (a worker pool):
 * which items are prepared, how a prepared image replaces an item's bytes, which failures are
 * `decode` and which `resize`, and the optional pixel budget. The preparation itself is plugged in.
 */
import {
  catchError,
  defer,
  map,
  of,
  type Observable,
  type ObservableInput,
  type OperatorFunction,
} from 'rxjs';
import { AthenaError, type AthenaErrorCode } from '../../errors.js';
import { decodeWeight } from '../../imaging/decode-memory.js';
import { readImageHeader } from '../../imaging/header.js';
import { releaseSamples } from '../../imaging/pixels.js';
import { type PreparedImage, type PrepareImageOptions } from '../../imaging/prepare-core.js';
import { ImageFormat, RequestEncoding, toFailure, type ImageItem, type ItemOrFailure } from '../../model.js';
import { abortable } from '../core/abortable.js';
import { mapItems } from './item-work.js';
import { pixelBudget, type BudgetGate } from './pixel-budget.js';
import { tracedStep } from './trace-step.js';

/** Prepares one image's bytes. May return a Promise or an Observable. */
export type PrepareWork = (bytes: Uint8Array, options: PrepareImageOptions) => ObservableInput<PreparedImage>;

export interface PrepareItemsOptions {
  /** Validated mode, pixel limit and strictness, handed to every `prepare` call. */
  readonly prepareOptions: Required<Pick<PrepareImageOptions, 'mode' | 'maxPixels' | 'failOn'>>;
  /** Images prepared at once. */
  readonly concurrency: number;
  /** Most pixels' worth of decoder memory at once over the images in flight; none when undefined. */
  readonly maxPixelsInFlight: number | undefined;
  /** Detach each item's original bytes once its model input is made (see `resize`). */
  readonly releaseInput?: boolean;
}

/** Codes of errors that mean the bytes could not be turned into pixels. */
const DECODE_CODES: ReadonlySet<AthenaErrorCode> = new Set<AthenaErrorCode>([
  'EMPTY_INPUT',
  'UNSUPPORTED_FORMAT',
  'DECODE_FAILED',
  'IMAGE_TOO_MANY_PIXELS',
  'INVALID_INPUT',
]);

/**
 * Replaces each image's bytes with its model input (see `resize`). `prepare` gets a signal aborted
 * when the subscription ends; per subscription, a fresh pixel budget.
 */
export function prepareItems(
  prepare: PrepareWork,
  options: PrepareItemsOptions,
): OperatorFunction<ItemOrFailure, ItemOrFailure> {
  const { prepareOptions, concurrency, maxPixelsInFlight: budget, releaseInput = false } = options;
  const work = (item: ImageItem, gate: BudgetGate | undefined): Observable<ItemOrFailure> => {
    if (
      item.format === ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR &&
      item.encoding === RequestEncoding.REQUEST_ENCODING_BROTLI
    ) {
      return of(item);
    }
    if (item.encoding === RequestEncoding.REQUEST_ENCODING_BROTLI) {
      const error = new AthenaError('INVALID_INPUT', `${item.ref} is Brotli-encoded; resize before compress`);
      return of(toFailure(item, 'decode', error));
    }
    // Timed from the start of the preparation: a wait for the pixel budget is not part of it.
    const run = (): Observable<PreparedImage> =>
      tracedStep(
        item.trace,
        'prepare',
        abortable((signal) => prepare(item.data, { ...prepareOptions, format: item.format, signal })),
      );
    return (gate ? gate(weightOf(item.data, budget!), run) : run()).pipe(
      map((prepared): ItemOrFailure => {
        if (releaseInput && prepared.data.buffer !== item.data.buffer) releaseSamples(item.data);
        return {
          ...item,
          data: prepared.data,
          format: prepared.format,
          encoding: RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED,
          width: prepared.width,
          height: prepared.height,
        };
      }),
      catchError((error: unknown) => {
        const athena = AthenaError.from(error, 'UNKNOWN');
        return of(toFailure(item, DECODE_CODES.has(athena.code) ? 'decode' : 'resize', athena));
      }),
    );
  };

  return (source) =>
    defer(() => {
      const gate = budget === undefined ? undefined : pixelBudget(budget);
      return source.pipe(
        mapItems((item) => work(item, gate), { concurrency, stage: 'resize', code: 'UNKNOWN' }),
      );
    });
}

/**
 * What an image is charged: the pixels' worth of memory its decoding holds, from its header (see
 * `decodeWeight`); the whole budget when the header does not say.
 */
function weightOf(bytes: Uint8Array, budget: number): number {
  const header = readImageHeader(bytes);
  return header === undefined ? budget : Math.min(budget, decodeWeight(header));
}
