import { type OperatorFunction } from 'rxjs';
import { checkPrepareOptions, prepareImage, type PrepareImageOptions } from '../imaging/prepare.js';
import { prepareItems, type PrepareWork } from '../internal/work/prepare-items.js';
import { assertBoolean, assertFunction, assertInteger, cpuCount } from '../internal/core/validate.js';
import { type ItemOrFailure } from '../model.js';

export { type PrepareWork };

export interface ResizeOptions extends Pick<PrepareImageOptions, 'mode' | 'maxPixels' | 'failOn'> {
  /** Images prepared at once. Default the number of CPU cores. */
  readonly concurrency?: number;
  /**
   * Most decoder memory at once, in pixels' worth (3 bytes, one RGB pixel), summed over the images
   * in flight. Each image is charged what decoding it holds, read from its header: its pixels for a
   * baseline JPEG or a PNG, twice them for a progressive JPEG with 4:2:0 chroma (libjpeg keeps every
   * coefficient; three times with full chroma), 10/3 of them for WebP. An image waits while its
   * charge would take the sum over this: under 36,000,000 a 10-megapixel progressive photo decodes
   * beside a 6-megapixel one and small ones, never beside another large one. Smaller images that fit
   * may go ahead of one waiting for room, 32 times at most. An image over the budget alone still
   * runs, alone, as does one whose size its header does not tell (formats other than JPEG, PNG and
   * WebP). Default: no budget, only `concurrency`.
   */
  readonly maxPixelsInFlight?: number;
  /**
   * Gives each image's original bytes back to the system as soon as its model input is made, by
   * detaching their `ArrayBuffer` (`transfer`, built in from Node 21, behind a flag on Node 20),
   * instead of at a later garbage collection. Set it only where nothing else reads those bytes
   * afterwards: a source's own reads (`fromFiles`, `fromDirectory`, `fromUrls`), never buffers you
   * passed in and keep, which would read as empty. Views on part of a larger buffer (Node's pool,
   * a slice) are left alone. Besides the memory, V8 counts detached bytes off at once, so large
   * files no longer bring the next full collection forward. Default `false`.
   */
  readonly releaseInput?: boolean;
  /** The preparation; default `prepareImage` (sharp, loaded on first use). For tests. */
  readonly prepare?: PrepareWork;
}

/**
 * Turns each image into the model input: decoded as OpenCV `imdecode(IMREAD_COLOR)` does and
 * stretched to 448 x 448 with OpenCV's INTER_LINEAR arithmetic, B, G, R bytes (see `prepareImage`).
 * Sets `data`, `format` (`IMAGE_FORMAT_RAW_UINT8_BGR`), `encoding` (uncompressed) and the original
 * `width` and `height`.
 *
 * ```text
 * preparing takes 2 ms; x: bytes that do not decode (fails after 1 ms); F a failure
 * source:  --a------b-----x----F--|
 * output:  ----A------B----y---F--|     A, B: 448 x 448 BGR bytes; y a `decode` failure
 * ```
 *
 * Decoding runs on sharp's threads, `concurrency` images at once, so outputs may leave in another
 * order than they came; the bilinear step (WebAssembly SIMD) takes about a millisecond on the main thread. Failures and
 * items already prepared (raw BGR, any encoding) pass through; other Brotli-encoded items and images
 * that cannot be decoded become `decode` failures (`EMPTY_INPUT`, `UNSUPPORTED_FORMAT`,
 * `DECODE_FAILED`, `IMAGE_TOO_MANY_PIXELS`, `INVALID_INPUT`), anything else a `resize` failure.
 * Unsubscribing aborts the images in flight. An item with a `trace` gets its preparation (not the wait
 * for the pixel budget) recorded as `athena.image.prepare` and `athena.client.prepare.duration`.
 *
 * @example
 * ```ts
 * import { compress, resize } from 'athena-rx/operators';
 *
 * images$.pipe(resize({ maxPixels: 50_000_000 }), compress());
 * ```
 * @param options.mode `'exact'` (default) or `'fast'` (JPEG shrink-on-load; not bit-exact)
 * @param options.maxPixels decompression-bomb limit, default 100,000,000
 * @param options.failOn decoder strictness, default `'error'`
 * @param options.concurrency images at once, default the number of CPU cores
 * @param options.maxPixelsInFlight most decoder memory at once, in pixels' worth, default none
 * @param options.releaseInput detach each image's original bytes once prepared, default `false`
 * @param options.prepare the preparation, default `prepareImage`
 */
export function resize(options: ResizeOptions = {}): OperatorFunction<ItemOrFailure, ItemOrFailure> {
  const prepareOptions = checkPrepareOptions(options);
  const concurrency =
    options.concurrency === undefined ? cpuCount() : assertInteger('concurrency', options.concurrency, 1);
  const prepare =
    options.prepare === undefined ? prepareImage : assertFunction<PrepareWork>('prepare', options.prepare);
  const budget =
    options.maxPixelsInFlight === undefined
      ? undefined
      : assertInteger('maxPixelsInFlight', options.maxPixelsInFlight, 1);

  const releaseInput =
    options.releaseInput === undefined ? false : assertBoolean('releaseInput', options.releaseInput);

  return prepareItems(prepare, { prepareOptions, concurrency, maxPixelsInFlight: budget, releaseInput });
}
