/**
 * Exact decoding in the browser: JPEG, PNG and WebP with the WebAssembly builds of libjpeg-turbo
 * (mozjpeg), the `png` crate and libwebp from `@jsquash`, BMP and netpbm with the TypeScript decoders
 * Node uses, then the rules `decode.ts` gives for OpenCV's `imdecode(IMREAD_COLOR)`: EXIF
 * orientation applied (`orientation.ts`), grey repeated, palette expanded, alpha skipped, 16-bit
 * samples cut to their high byte (`samplesLayout`). Runs in a worker (`startPrepareWorker`).
 *
 * Not decoded here: CMYK JPEGs (the RGBA build of libjpeg cannot convert them; `DECODE_FAILED`),
 * and GIF, TIFF and the other formats only sharp reads in Node (`UNSUPPORTED_FORMAT`).
 */
import decodeJpeg, { init as initJpeg } from '@jsquash/jpeg/decode.js';
import decodePng, { init as initPng } from '@jsquash/png/decode.js';
import decodeWebp, { init as initWebp } from '@jsquash/webp/decode.js';
import { AthenaError } from '../errors.js';
import { ImageFormat } from '../generated/athena/models.js';
import { decodeBmp } from '../imaging/bmp.js';
import { readImageHeader } from '../imaging/header.js';
import { decodeNetpbm } from '../imaging/netpbm.js';
import { exifOrientation, orientPixels } from '../imaging/orientation.js';
import { asDecodeError, assertPixelCount, samplesLayout, type DecodedPixels } from '../imaging/pixels.js';
import type { DecoderModules } from './protocol.js';

/** What the `@jsquash` decoders return: `ImageData`, or 16-bit RGBA for `bitDepth: 16`. */
interface Rgba {
  readonly data: {
    readonly buffer: ArrayBufferLike;
    readonly byteOffset: number;
    readonly byteLength: number;
  };
  readonly width: number;
  readonly height: number;
  /** The 16-bit result's hold on the decoder's memory. */
  free?(): void;
}

/** Hands the compiled decoder modules to `@jsquash`; those not given load their own `.wasm` on first use. */
export async function initDecoders(modules: DecoderModules): Promise<void> {
  const init = initJpeg as (module: object) => Promise<void>;
  const initW = initWebp as (module: object) => Promise<void>;
  const initP = initPng as (module: object) => Promise<unknown>;
  await Promise.all([
    modules.jpeg && init(modules.jpeg),
    modules.webp && initW(modules.webp),
    modules.png && initP(modules.png),
  ]);
}

/** Decodes bytes sniffed as `format` exactly as the Node path does (see the module comment). */
export async function decodeExact(
  bytes: Uint8Array,
  format: ImageFormat,
  maxPixels: number,
): Promise<DecodedPixels> {
  switch (format) {
    case ImageFormat.IMAGE_FORMAT_BMP:
      return decodeBmp(bytes, maxPixels);
    case ImageFormat.IMAGE_FORMAT_PBM:
    case ImageFormat.IMAGE_FORMAT_PGM:
    case ImageFormat.IMAGE_FORMAT_PPM:
      return decodeNetpbm(bytes, maxPixels);
    case ImageFormat.IMAGE_FORMAT_JPEG:
    case ImageFormat.IMAGE_FORMAT_PNG:
    case ImageFormat.IMAGE_FORMAT_WEBP:
      return decodeCodec(bytes, format, maxPixels);
    default:
      throw new AthenaError(
        'UNSUPPORTED_FORMAT',
        `${ImageFormat[format] ?? format} images are not prepared in the browser; JPEG, PNG, WebP, BMP and netpbm are`,
      );
  }
}

async function decodeCodec(
  bytes: Uint8Array,
  format: ImageFormat,
  maxPixels: number,
): Promise<DecodedPixels> {
  const header = readImageHeader(bytes);
  if (header) assertPixelCount(header.width, header.height, maxPixels);
  if (header?.cmyk) {
    throw new AthenaError('DECODE_FAILED', 'CMYK JPEGs are not decoded in the browser; prepare them in Node');
  }
  const sixteen = header?.sixteen === true;
  // The decoders take an ArrayBuffer of their own (the PNG one copies it, the others read it).
  const buffer = bytes.slice().buffer;
  let image: Rgba;
  try {
    if (format === ImageFormat.IMAGE_FORMAT_JPEG) image = (await decodeJpeg(buffer)) as Rgba;
    else if (format === ImageFormat.IMAGE_FORMAT_WEBP) image = (await decodeWebp(buffer)) as Rgba;
    else image = (await (sixteen ? decodePng(buffer, { bitDepth: 16 }) : decodePng(buffer))) as Rgba;
  } catch (error) {
    throw asDecodeError(error);
  }
  // The 16-bit result copies its samples and size out of the decoder's memory here, then lets go.
  const { data, width, height } = image;
  image.free?.();
  if (!width || !height)
    throw new AthenaError('DECODE_FAILED', 'The image has no pixels (zero width or height)');
  assertPixelCount(width, height, maxPixels);
  const samples = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const upright = orientPixels(samples, width, height, sixteen ? 8 : 4, exifOrientation(bytes));
  return {
    data: upright.data,
    width: upright.width,
    height: upright.height,
    layout: samplesLayout(4, sixteen),
    imageWidth: upright.width,
    imageHeight: upright.height,
  };
}
