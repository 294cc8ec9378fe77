import { promisify } from 'node:util';
import { brotliDecompress } from 'node:zlib';
import sharp, { type Metadata } from 'sharp';
import {
  ErrorCode,
  ImageFormat,
  RequestEncoding,
  type ClassificationInput,
} from '../generated/athena/models.js';
import { MODEL_INPUT_BYTES, MODEL_SIZE } from './labels.js';
import { imageProblem, type InputProblem } from './validation.js';

const decompress = promisify(brotliDecompress);

/** Largest decompressed payload accepted (a Brotli bomb fails with IMAGE_TOO_LARGE). */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/** Encoded containers decoded through sharp; anything else fails as undecodable. */
const DECODABLE = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff']);

/** Model-ready pixels, or why the input has none. */
export type DecodeResult =
  { readonly ok: true; readonly bgr: Uint8Array } | { readonly ok: false; readonly problem: InputProblem };

/**
 * Turns an input's `data` into 448 x 448 B,G,R pixels the way the service would.
 *
 * - Encoding: unspecified/uncompressed as is; `REQUEST_ENCODING_BROTLI` decompressed asynchronously
 *   (at most 64 MiB out). Unknown encodings and corrupt Brotli fail with `UNSPECIFIED`.
 * - `IMAGE_FORMAT_RAW_UINT8_BGR`: used as is, no decode; any length but 602,112 bytes fails with
 *   `IMAGE_TOO_LARGE`.
 * - Encoded formats (PNG, JPEG, WebP, GIF, TIFF; sniffed from the bytes, whatever format was claimed):
 *   decoded by sharp (EXIF orientation applied, alpha dropped, grey expanded, RGB swapped to BGR).
 *   Bytes sharp cannot decode fail with `UNSPECIFIED`; a size other than 448 x 448 with
 *   `IMAGE_TOO_LARGE`.
 *
 * Every failure message starts with `Image Classification Error`. Callers check that `format` is
 * set before calling.
 */
export async function decodeInput(input: ClassificationInput): Promise<DecodeResult> {
  const bytes = await unwrap(input);
  if (!(bytes instanceof Uint8Array)) return bytes;
  if (input.format === ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR) {
    if (bytes.length === MODEL_INPUT_BYTES) return { ok: true, bgr: bytes };
    return fail(
      ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE,
      `raw BGR input must be ${MODEL_INPUT_BYTES} bytes (${MODEL_SIZE}x${MODEL_SIZE}x3), got ${bytes.length}`,
    );
  }
  return decodeEncoded(bytes);
}

async function unwrap(input: ClassificationInput): Promise<Uint8Array | DecodeResult> {
  switch (input.encoding) {
    case RequestEncoding.REQUEST_ENCODING_UNSPECIFIED:
    case RequestEncoding.REQUEST_ENCODING_UNCOMPRESSED:
      return input.data;
    case RequestEncoding.REQUEST_ENCODING_BROTLI:
      try {
        return await decompress(input.data, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
      } catch (error) {
        if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
          return fail(ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE, 'decompressed data exceeds 64 MiB');
        }
        return fail(ErrorCode.ERROR_CODE_UNSPECIFIED, 'Brotli data could not be decompressed');
      }
    default:
      return fail(ErrorCode.ERROR_CODE_UNSPECIFIED, `unsupported encoding ${String(input.encoding)}`);
  }
}

async function decodeEncoded(bytes: Uint8Array): Promise<DecodeResult> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    return fail(ErrorCode.ERROR_CODE_UNSPECIFIED, 'image data could not be decoded');
  }
  if (!DECODABLE.has(meta.format)) {
    return fail(ErrorCode.ERROR_CODE_UNSPECIFIED, `image data could not be decoded (${meta.format})`);
  }
  const turned = (meta.orientation ?? 1) >= 5;
  const width = turned ? meta.height : meta.width;
  const height = turned ? meta.width : meta.height;
  if (width !== MODEL_SIZE || height !== MODEL_SIZE) {
    return fail(
      ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE,
      `image must be ${MODEL_SIZE}x${MODEL_SIZE}, got ${width}x${height}`,
    );
  }
  let pixels: Buffer;
  try {
    pixels = await sharp(bytes).autoOrient().removeAlpha().toColourspace('srgb').raw().toBuffer();
  } catch {
    return fail(ErrorCode.ERROR_CODE_UNSPECIFIED, 'image data could not be decoded');
  }
  if (pixels.length !== MODEL_INPUT_BYTES) {
    return fail(ErrorCode.ERROR_CODE_UNSPECIFIED, 'image data could not be decoded to 3 channels');
  }
  for (let i = 0; i < pixels.length; i += 3) {
    const red = pixels[i] as number;
    pixels[i] = pixels[i + 2] as number;
    pixels[i + 2] = red;
  }
  return { ok: true, bgr: pixels };
}

function fail(code: ErrorCode, reason: string): DecodeResult {
  return { ok: false, problem: imageProblem(code, reason) };
}
