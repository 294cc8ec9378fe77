import { defer, finalize, type OperatorFunction } from 'rxjs';
import { AthenaError } from '../errors.js';
import { ImageFormat } from '../generated/athena/models.js';
import { checkPrepareOptions, prepareWith, type PrepareMode } from '../imaging/prepare-core.js';
import { prepareItems, type PrepareWork } from '../internal/work/prepare-items.js';
import { assertFunction, assertInteger, cpuCount } from '../internal/core/validate.js';
import { type ItemOrFailure } from '../model.js';
import { compileDecoders, wasmOption, type DecoderWasm } from './wasm-sources.js';
import { workerPool, type WorkerPool } from './worker-pool.js';
import type { WorkerLike } from './web.js';

/** Most workers the pool starts when `size` is not given. */
export const DEFAULT_MAX_WORKERS = 4;

export interface BrowserResizeOptions {
  /**
   * Starts one preparing worker: a module worker whose script calls `startPrepareWorker()`, e.g.
   * `() => new Worker(new URL('./prepare.worker', import.meta.url), { type: 'module' })`. Required.
   */
  readonly worker: () => WorkerLike;
  /** Workers, each preparing one image at a time. Default `navigator.hardwareConcurrency`, at most 4. */
  readonly size?: number;
  /**
   * `'exact'` (default): WebAssembly decoders, bytes equal to the Node path's. `'fast'`: the
   * browser's own decoder (`createImageBitmap`), quicker and close but not equal (docs/browser.md).
   */
  readonly mode?: PrepareMode;
  /** Largest accepted `width * height`, checked on the header before decoding. Default 100,000,000. */
  readonly maxPixels?: number;
  /** Most decoder memory at once over the images in flight, in pixels' worth (see the Node `resize`). Default none. */
  readonly maxPixelsInFlight?: number;
  /**
   * The decoders' WebAssembly, compiled once per subscription on the page and handed to every
   * worker. Give it when bundling (see docs/browser.md); a decoder left out fetches its `.wasm`
   * from beside its own module, which works only where the bundler keeps that file there.
   */
  readonly wasm?: DecoderWasm;
}

/**
 * The browser's `resize`: turns each image into the model input in a pool of Web Workers, with the
 * same bytes as the Node `resize` (OpenCV `imdecode(IMREAD_COLOR)` then INTER_LINEAR to 448 x 448,
 * B, G, R) from WebAssembly builds of the same codecs, and the same item fields and failures.
 *
 * ```text
 * source:  --a------b-----x----F--|      x: bytes that do not decode, F: a failure
 * output:  ----a'-------b'--y--F--|      a', b': 602,112 BGR bytes; y: decode failure
 * ```
 *
 * JPEG, PNG and WebP (and BMP and netpbm) are prepared exactly; GIF, TIFF and CMYK JPEG are not
 * (`UNSUPPORTED_FORMAT`, `DECODE_FAILED`). Bytes in no image format fail at stage `decode` with
 * `UNSUPPORTED_FORMAT`, as in Node; a worker that fails gives `INTERNAL` at stage `resize`. Outputs
 * may leave in another order than they came. The workers start with the first image and end when
 * the subscription does; unsubscribing drops the images in flight.
 *
 * @example
 * ```ts ignore
 * import { fromFileList, hashImage, resize } from 'athena-rx/browser';
 * import jpeg from '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm';
 *
 * const worker = () => new Worker(new URL('./prepare.worker', import.meta.url), { type: 'module' });
 * fromFileList(files).pipe(hashImage(), resize({ worker, wasm: { jpeg, png, webp } }));
 * ```
 * @param options - `worker` (required), `size`, `mode`, `maxPixels`, `maxPixelsInFlight`, `wasm`.
 */
export function resize(options: BrowserResizeOptions): OperatorFunction<ItemOrFailure, ItemOrFailure> {
  if (typeof options !== 'object' || options === null) throw new TypeError('resize needs { worker }');
  const create = assertFunction<() => WorkerLike>('worker', options.worker);
  const size =
    options.size === undefined
      ? Math.min(cpuCount(), DEFAULT_MAX_WORKERS)
      : assertInteger('size', options.size, 1);
  const prepareOptions = checkPrepareOptions({ mode: options.mode, maxPixels: options.maxPixels });
  const maxPixelsInFlight =
    options.maxPixelsInFlight === undefined
      ? undefined
      : assertInteger('maxPixelsInFlight', options.maxPixelsInFlight, 1);
  const wasm = wasmOption(options.wasm);
  const { mode, maxPixels } = prepareOptions;

  return (source) =>
    defer(() => {
      const modules = compileDecoders(wasm);
      modules.catch(() => undefined); // each image reports it; a run with no image must not
      let pool: WorkerPool | undefined;
      let closed = false;
      const prepare: PrepareWork = async (bytes, { format, signal }) => {
        if (format === ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR) {
          return prepareWith(bytes, { ...prepareOptions, format, signal }, () => {
            throw new AthenaError('INTERNAL', 'raw input is not decoded');
          });
        }
        const compiled = await modules;
        if (closed) throw new AthenaError('CANCELLED', 'Image preparation was cancelled');
        pool ??= workerPool(create, size, compiled);
        return pool.prepare(bytes, mode, maxPixels, signal);
      };
      return source.pipe(
        prepareItems(prepare, { prepareOptions, concurrency: size, maxPixelsInFlight }),
        finalize(() => {
          closed = true;
          pool?.close();
        }),
      );
    });
}
