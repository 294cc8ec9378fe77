/**
 * Decoding of an input's `data` on the embedded server: Brotli, then the client's OpenCV-faithful
 * decoders from `src/imaging` (the same pixels `imdecode(IMREAD_COLOR)` gives), then the 448 x 448
 * check. Formats without a decoder here are refused with a message naming the format.
 */
import { promisify } from 'node:util';
import { brotliDecompress } from 'node:zlib';
import { AthenaError } from '../errors.js';
import {
  ErrorCode,
  ImageFormat,
  RequestEncoding,
  type ClassificationInput,
} from '../generated/athena/models.js';
import { decodeBmp } from '../imaging/bmp.js';
import { decodePixels, type DecodedPixels } from '../imaging/decode.js';
import { readImageHeader } from '../imaging/header.js';
import { decodeNetpbm } from '../imaging/netpbm.js';
import { detectImageFormat } from '../imaging/sniff.js';
import { FORMAT_NAMES, NOT_DECODED, packBgr } from './formats.js';
import { MODEL_INPUT_BYTES, MODEL_SIZE } from './labels.js';
import { imageProblem, type InputProblem } from './validation.js';

const decompress = promisify(brotliDecompress);

/** Largest decompressed payload accepted (a Brotli bomb fails with IMAGE_TOO_LARGE). */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/** Model-ready pixels, or why the input has none. */
export type DecodeResult =
  { readonly ok: true; readonly bgr: Uint8Array } | { readonly ok: false; readonly problem: InputProblem };

/**
 * Turns an input's `data` into 448 x 448 B,G,R pixels the way the service would.
 *
 * - Encoding: unspecified/uncompressed as is; `REQUEST_ENCODING_BROTLI` decompressed asynchronously
 *   (at most 64 MiB out; more is `IMAGE_TOO_LARGE`). Unknown encodings and corrupt Brotli fail with
 *   `UNSPECIFIED`.
 * - `IMAGE_FORMAT_RAW_UINT8_BGR`: used as is, no decode; any length but 602,112 bytes fails with
 *   `IMAGE_TOO_LARGE`.
 * - Encoded formats are sniffed from the bytes, whatever format was claimed, as `imdecode` does,
 *   and decoded as `imdecode(IMREAD_COLOR)` would: JPEG, PNG, WebP, GIF and TIFF through sharp
 *   (EXIF orientation applied, no colour management, grey expanded, alpha dropped, 16-bit to the
 *   high byte), BMP/DIB and PBM/PGM/PPM/PNM by the library's own decoders. A size other than
 *   448 x 448 fails with `IMAGE_TOO_LARGE` (found from the header where it can be, never decoding
 *   more than 448 x 448 pixels); damaged bytes fail with `UNSPECIFIED`.
 * - PAM (PXM), PFM, Sun raster (SR/RAS) and Radiance HDR (HDR/PIC) are refused with `UNSPECIFIED`
 *   and a message naming the format.
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
        if (tooLarge(error)) {
          return fail(ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE, 'decompressed data exceeds 64 MiB');
        }
        return fail(ErrorCode.ERROR_CODE_UNSPECIFIED, 'Brotli data could not be decompressed');
      }
    default:
      return fail(ErrorCode.ERROR_CODE_UNSPECIFIED, `unsupported encoding ${String(input.encoding)}`);
  }
}

async function decodeEncoded(bytes: Uint8Array): Promise<DecodeResult> {
  const format = detectImageFormat(bytes);
  const refused = NOT_DECODED.get(format);
  if (refused !== undefined) return fail(ErrorCode.ERROR_CODE_UNSPECIFIED, refused);
  if (format === ImageFormat.IMAGE_FORMAT_UNSPECIFIED) {
    return fail(
      ErrorCode.ERROR_CODE_UNSPECIFIED,
      'image data could not be decoded (no known image signature)',
    );
  }
  const header = readImageHeader(bytes);
  if (header !== undefined && (header.width !== MODEL_SIZE || header.height !== MODEL_SIZE)) {
    return wrongSize(header.width, header.height);
  }
  let decoded: DecodedPixels;
  try {
    decoded = await decodeFormat(bytes, format);
  } catch (error) {
    const code = error instanceof AthenaError ? error.code : 'DECODE_FAILED';
    const reason = error instanceof AthenaError ? error.message : 'unknown decoder failure';
    if (code === 'IMAGE_TOO_MANY_PIXELS') {
      return fail(ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE, `image must be ${MODEL_SIZE}x${MODEL_SIZE}`, reason);
    }
    return fail(
      ErrorCode.ERROR_CODE_UNSPECIFIED,
      `image data could not be decoded (${FORMAT_NAMES[format]})`,
      reason,
    );
  }
  if (decoded.imageWidth !== MODEL_SIZE || decoded.imageHeight !== MODEL_SIZE) {
    return wrongSize(decoded.imageWidth, decoded.imageHeight);
  }
  return { ok: true, bgr: packBgr(decoded) };
}

/** The client's OpenCV-faithful decoders; at most 448 x 448 pixels are decoded, bigger fails first. */
function decodeFormat(bytes: Uint8Array, format: ImageFormat): Promise<DecodedPixels> {
  const maxPixels = MODEL_SIZE * MODEL_SIZE;
  switch (format) {
    case ImageFormat.IMAGE_FORMAT_BMP:
      return Promise.resolve().then(() => decodeBmp(bytes, maxPixels));
    case ImageFormat.IMAGE_FORMAT_PBM:
    case ImageFormat.IMAGE_FORMAT_PGM:
    case ImageFormat.IMAGE_FORMAT_PPM:
      return Promise.resolve().then(() => decodeNetpbm(bytes, maxPixels));
    default:
      return decodePixels(bytes, { maxPixels, failOn: 'error' });
  }
}

/** zlib's refusal to go past `maxOutputLength` (a `RangeError` coded `ERR_BUFFER_TOO_LARGE`). */
function tooLarge(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError;
}

function wrongSize(width: number, height: number): DecodeResult {
  return fail(
    ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE,
    `image must be ${MODEL_SIZE}x${MODEL_SIZE}, got ${width}x${height}`,
  );
}

function fail(code: ErrorCode, reason: string, details?: string): DecodeResult {
  return { ok: false, problem: imageProblem(code, reason, details) };
}
