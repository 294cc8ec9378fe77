/**
 * Decoding as OpenCV's `imdecode(buf, IMREAD_COLOR)` does, with sharp (libvips) doing the codec work
 * off the JavaScript thread. sharp is loaded lazily, so importing this module costs nothing.
 *
 * How each `IMREAD_COLOR` rule is met:
 *
 * - EXIF orientation is applied (sharp `autoOrient`), as `imdecode` does unless told to ignore it.
 * - No colour management: OpenCV ignores embedded ICC profiles, so sharp is told to ignore them
 *   too (`ignoreIcc`), and CMYK is never converted through a profile (see below).
 * - Grey (with or without alpha) is read as its one grey channel and repeated into B, G and R.
 * - Palette images are expanded to their RGB entries (libpng `palette_to_rgb`, in both).
 * - Alpha is dropped, never composited: libpng `strip_alpha` / libwebp BGR output in OpenCV, and here
 *   the colour channels are read and the alpha channel skipped.
 * - 16-bit samples keep their high byte: OpenCV asks libpng for `png_set_strip_16`, which chops
 *   (`v >> 8`, not a rounded `v / 257`); here sharp hands over the 16-bit samples unconverted and
 *   the high byte is read.
 * - CMYK JPEG: OpenCV takes libjpeg's CMYK samples and computes `R = K - ((255 - C) * K >> 8)` (same
 *   for G from M, B from Y). libvips inverts the samples of Adobe CMYK JPEGs, so they are inverted
 *   back first when the file carries an Adobe APP14 marker.
 * - Animated GIF and WebP: the first frame.
 *
 * The codecs are the same families with the same defaults: sharp's mozjpeg decodes with
 * libjpeg-turbo's code, as OpenCV's libjpeg-turbo does (`JDCT_ISLOW`, fancy upsampling), plus libpng
 * and libwebp, so the decoded samples agree as long as those libraries do. Not verified against
 * OpenCV: TIFF (OpenCV reads some layouts through `TIFFReadRGBA`), and GIF, which OpenCV 4.11 and
 * later decode with their own code and which may differ on transparent pixels. sharp cannot read BMP, netpbm, PFM, HDR or Sun raster
 * from memory: `bmp.ts` and `netpbm.ts` decode the first two, the others fail with `DECODE_FAILED`.
 */
import type sharpFactory from 'sharp';
import type { FailOnOptions, Metadata, Sharp, SharpOptions } from 'sharp';
import { AthenaError } from '../errors.js';
import { jpegSegments, readImageHeader, type ImageHeader } from './header.js';
import {
  asDecodeError,
  assertPixelCount,
  releaseSamples,
  samplesLayout,
  throwIfAborted,
  type DecodedPixels,
} from './pixels.js';
import { ascii } from './sniff.js';

export { assertPixelCount, throwIfAborted, type DecodedPixels };

export interface DecodeOptions {
  /** Largest accepted `width * height` of the (first frame of the) image. */
  readonly maxPixels: number;
  /** sharp's `failOn` level. */
  readonly failOn: FailOnOptions;
  /**
   * Target size for JPEG shrink-on-load, in oriented pixels; when set, a large JPEG is decoded at
   * 1/2, 1/4 or 1/8 scale and brought down to at least this size (not exact, see `prepareImage`).
   */
  readonly shrinkTo?: { readonly width: number; readonly height: number };
  readonly signal?: AbortSignal;
}

type SharpFactory = typeof sharpFactory;
let sharpModule: Promise<SharpFactory> | undefined;

/** sharp, imported on first use. */
export function loadSharp(): Promise<SharpFactory> {
  sharpModule ??= import('#sharp').then((module) => module.default);
  return sharpModule;
}

/** Decodes `bytes` (any format sharp reads) into samples laid out for `resizeBilinear`. */
export async function decodePixels(bytes: Uint8Array, options: DecodeOptions): Promise<DecodedPixels> {
  const sharp = await loadSharp();
  throwIfAborted(options.signal);
  const input = { failOn: options.failOn, ignoreIcc: true, autoOrient: true, pages: 1, page: 0 };
  // Shrink-on-load needs the oriented size before decoding, which only sharp's probe reads (EXIF).
  const header = readImageHeader(bytes);
  const facts: DecodeFacts =
    header && !(options.shrinkTo && header.format === 'jpeg') ? header : await probe(sharp, bytes, input);
  checkSize(facts, options.maxPixels);
  throwIfAborted(options.signal);

  const pipeline = sharp(bytes, { ...input, limitInputPixels: options.maxPixels });
  try {
    if (facts.cmyk) return withImageSize(await cmyk(pipeline, bytes, facts.format === 'jpeg'));
    const { sixteen, grey } = facts;
    if (!sixteen && options.shrinkTo && facts.format === 'jpeg' && facts.oriented)
      shrinkOnLoad(pipeline, facts.oriented, options.shrinkTo);
    pipeline.toColourspace(sixteen ? (grey ? 'grey16' : 'rgb16') : grey ? 'b-w' : 'srgb');
    const { data, info } = await pipeline
      .raw({ depth: sixteen ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const layout = samplesLayout(info.channels, sixteen);
    const [imageWidth, imageHeight] = facts.oriented ?? [info.width, info.height];
    return {
      data: toBytes(data),
      width: info.width,
      height: info.height,
      layout,
      imageWidth,
      imageHeight,
      owned: true,
    };
  } catch (error) {
    throw decodeError(error);
  }
}

/** What chooses the decode: the header's facts, and the oriented size when sharp's probe read it. */
interface DecodeFacts extends Omit<ImageHeader, 'format'> {
  readonly format: string | undefined;
  readonly oriented?: readonly [number, number];
}

/** sharp's own header probe, for the formats `readImageHeader` leaves alone and for shrink-on-load. */
async function probe(sharp: SharpFactory, bytes: Uint8Array, input: SharpOptions): Promise<DecodeFacts> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { ...input, limitInputPixels: false }).metadata();
  } catch (error) {
    throw decodeError(error);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  return {
    format: meta.format,
    width,
    height,
    grey: (meta.channels ?? 3) <= 2,
    sixteen: meta.depth === 'ushort',
    cmyk: meta.space === 'cmyk',
    oriented: orientedSize(meta),
  };
}

/** A decode without resizing: the decoded size is the oriented size. */
function withImageSize(d: Omit<DecodedPixels, 'imageWidth' | 'imageHeight'>): DecodedPixels {
  return { ...d, imageWidth: d.width, imageHeight: d.height };
}

function checkSize(facts: { width: number; height: number }, maxPixels: number): void {
  const { width, height } = facts;
  if (!width || !height)
    throw new AthenaError('DECODE_FAILED', 'The image has no pixels (zero width or height)');
  assertPixelCount(width, height, maxPixels);
}

function orientedSize(meta: Metadata): [number, number] {
  if (meta.autoOrient) return [meta.autoOrient.width, meta.autoOrient.height];
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  return (meta.orientation ?? 1) >= 5 ? [height, width] : [width, height];
}

/** Asks sharp for a size that makes libjpeg decode at exactly 1/s scale, s in 2, 4, 8. */
function shrinkOnLoad(
  pipeline: Sharp,
  [width, height]: readonly [number, number],
  target: { width: number; height: number },
): void {
  // sharp picks factor s when the shrink is in [s + 1, 2s); asking for size / (s + 1) hits that.
  for (const s of [8, 4, 2]) {
    const w = Math.floor(width / (s + 1));
    const h = Math.floor(height / (s + 1));
    if (w >= target.width && h >= target.height) {
      pipeline.resize(w, h, { fit: 'fill', fastShrinkOnLoad: true, kernel: 'linear' });
      return;
    }
  }
}

/** CMYK JPEG (or TIFF) to packed BGR with OpenCV's `icvCvt_CMYK2BGR_8u_C4C3R`, one pass on the main thread. */
async function cmyk(
  pipeline: Sharp,
  bytes: Uint8Array,
  isJpeg: boolean,
): Promise<Pick<DecodedPixels, 'data' | 'width' | 'height' | 'layout' | 'owned'>> {
  const { data, info } = await pipeline
    .pipelineColourspace('cmyk')
    .toColourspace('cmyk')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const invert = isJpeg && hasAdobeMarker(bytes) ? 255 : 0;
  const pixels = info.width * info.height;
  const stride = info.channels;
  const out = new Uint8Array(pixels * 3);
  for (let i = 0, p = 0, o = 0; i < pixels; i++, p += stride, o += 3) {
    const c = data[p]! ^ invert;
    const m = data[p + 1]! ^ invert;
    const y = data[p + 2]! ^ invert;
    const k = data[p + 3]! ^ invert;
    out[o] = k - (((255 - y) * k) >> 8);
    out[o + 1] = k - (((255 - m) * k) >> 8);
    out[o + 2] = k - (((255 - c) * k) >> 8);
  }
  releaseSamples(toBytes(data));
  return {
    data: out,
    width: info.width,
    height: info.height,
    layout: { pixelStride: 3, channelOffsets: [0, 1, 2] },
    owned: true,
  };
}

/** Whether a JPEG has the Adobe APP14 marker (libjpeg's `saw_Adobe_marker`) before its first scan. */
export function hasAdobeMarker(bytes: Uint8Array): boolean {
  for (const { marker, at, length } of jpegSegments(bytes)) {
    if (marker === 0xee && length >= 14 && ascii(bytes, at + 4, 'Adobe')) return true;
  }
  return false;
}

function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function decodeError(error: unknown): AthenaError {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof AthenaError) && /pixel limit/i.test(message)) {
    return new AthenaError('IMAGE_TOO_MANY_PIXELS', `The image has more pixels than allowed: ${message}`, {
      cause: error,
    });
  }
  return asDecodeError(error);
}
