/**
 * Preparing an image in Node: `prepareImage`, with sharp decoding (see `decode.ts`) and the
 * TypeScript BMP and netpbm decoders, around the shared steps of `prepare-core.ts`.
 */
import { ImageFormat } from '../generated/athena/models.js';
import { decodeBmp } from './bmp.js';
import { decodePixels } from './decode.js';
import { type DecodedPixels } from './pixels.js';
import { decodeNetpbm } from './netpbm.js';
import {
  checkPrepareOptions,
  MODEL_INPUT_SIZE,
  prepareWith,
  type CheckedPrepareOptions,
  type PreparedImage,
  type PrepareImageOptions,
} from './prepare-core.js';

export {
  checkPrepareOptions,
  DEFAULT_MAX_PIXELS,
  MODEL_INPUT_BYTES,
  MODEL_INPUT_SIZE,
  type DecodeStrictness,
  type PreparedImage,
  type PrepareImageOptions,
  type PrepareMode,
} from './prepare-core.js';

/**
 * Turns encoded image bytes into the model input exactly as the reference preprocessing does:
 * OpenCV `imdecode(IMREAD_COLOR)` (EXIF orientation applied, grey and palette expanded, alpha
 * dropped, 16-bit reduced to the high byte, no colour management), then
 * `resize(448 x 448, INTER_LINEAR)` as a plain stretch, giving B, G, R bytes.
 *
 * JPEG, PNG, WebP, GIF and TIFF are decoded in sharp's thread pool (sharp is imported on first
 * use). BMP and PBM/PGM/PPM, which sharp cannot read from memory, are decoded in TypeScript after
 * OpenCV's own decoders: 24/32-bit BMPs and binary PNM are read in place, while palette, 16-bit
 * and ASCII files take one pass over their pixels on the main thread. The bilinear step reproduces
 * OpenCV's fixed-point arithmetic on the main thread in WebAssembly SIMD (about a millisecond;
 * integer TypeScript where WebAssembly SIMD is missing). An image already 448 x 448 is decoded
 * without resampling; bytes declared `IMAGE_FORMAT_RAW_UINT8_BGR` pass through untouched.
 *
 * Rejects with an `AthenaError`: `EMPTY_INPUT` (no bytes), `UNSUPPORTED_FORMAT` (not an image
 * format the service knows), `DECODE_FAILED` (damaged, zero-sized, or without a decoder here:
 * RLE-compressed BMP, PAM, PFM, HDR, Sun raster), `IMAGE_TOO_MANY_PIXELS` (over `maxPixels`, found
 * from the header alone), `INVALID_INPUT` (raw bytes of the wrong length), `CANCELLED` (aborted).
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { prepareImage } from 'athena-rx';
 *
 * const { data, width, height } = await prepareImage(await readFile('photo.jpg'));
 * // data.length === 602112; width x height is the photo's own size
 * ```
 * @param bytes the encoded image (or a raw model input when `options.format` says so)
 * @param options see {@link PrepareImageOptions}
 */
export function prepareImage(bytes: Uint8Array, options: PrepareImageOptions = {}): Promise<PreparedImage> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const checked = { ...checkPrepareOptions(options), format: options.format, signal: options.signal };
  return prepareWith(bytes, checked, (data, format) => decode(data, format, checked));
}

/** Bitmaps and netpbm files in TypeScript (sharp cannot read them from memory), the rest with sharp. */
function decode(
  bytes: Uint8Array,
  format: ImageFormat,
  options: CheckedPrepareOptions,
): Promise<DecodedPixels> {
  switch (format) {
    case ImageFormat.IMAGE_FORMAT_BMP:
      return Promise.resolve().then(() => decodeBmp(bytes, options.maxPixels));
    case ImageFormat.IMAGE_FORMAT_PBM:
    case ImageFormat.IMAGE_FORMAT_PGM:
    case ImageFormat.IMAGE_FORMAT_PPM:
      return Promise.resolve().then(() => decodeNetpbm(bytes, options.maxPixels));
    default:
      return decodePixels(bytes, {
        maxPixels: options.maxPixels,
        failOn: options.failOn,
        shrinkTo: options.mode === 'fast' ? { width: MODEL_INPUT_SIZE, height: MODEL_INPUT_SIZE } : undefined,
        signal: options.signal,
      });
  }
}
