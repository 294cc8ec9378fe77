/**
 * What every decoder hands the bilinear step (Node's sharp path, the TypeScript BMP and netpbm
 * decoders, the browser's WebAssembly decoders), how decoded samples map to B, G, R, and the checks
 * they all make. No Node imports: the browser entry point builds on it.
 */
import { AthenaError } from '../errors.js';
import type { PixelLayout } from './bilinear.js';

/** What the resize reads: decoded samples and where the B, G, R samples of each pixel are. */
export interface DecodedPixels {
  readonly data: Uint8Array;
  /** Size of `data` in pixels (smaller than the image after shrink-on-load). */
  readonly width: number;
  readonly height: number;
  readonly layout: PixelLayout;
  /** Size of the image after EXIF orientation, i.e. of the image `imdecode` returns. */
  readonly imageWidth: number;
  readonly imageHeight: number;
  /**
   * `data` is the decoder's own buffer, which nothing else holds: once the bilinear step has read it,
   * {@link releaseSamples} gives its memory back at once instead of at a later garbage collection.
   */
  readonly owned?: boolean;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The layout of interleaved samples as `imdecode(IMREAD_COLOR)` reads them: one or two channels
 * are grey (plus alpha), the grey sample repeated into B, G and R; three or four are R, G, B (plus
 * alpha), read as B, G, R; alpha is skipped. 16-bit samples in this machine's byte order keep their
 * high byte, as libpng's `png_set_strip_16` does.
 */
export function samplesLayout(channels: number, sixteen: boolean): PixelLayout {
  const bytesPerSample = sixteen ? 2 : 1;
  const high = sixteen && LITTLE_ENDIAN ? 1 : 0;
  const at = (channel: number): number => channel * bytesPerSample + high;
  return {
    pixelStride: channels * bytesPerSample,
    channelOffsets: channels <= 2 ? [at(0), at(0), at(0)] : [at(2), at(1), at(0)],
  };
}

type TransferableBuffer = ArrayBufferLike & { transfer?: (length?: number) => ArrayBuffer };

/**
 * Frees the memory of decoded samples now. A decoder's buffer (36 MB for a 12-megapixel photo) is
 * otherwise freed only when the garbage collector finds it unreachable, which for buffers held
 * outside the JavaScript heap comes after tens to hundreds of megabytes of them have piled up, and
 * costs a full collection every few large images. Detaching the buffer with
 * `ArrayBuffer.prototype.transfer(0)` (Node 21 and later, browsers since 2023, Node 20 with
 * `--harmony-rab-gsab-transfer`) frees it at once. Does nothing where `transfer` is missing or when
 * `data` is a view on part of a larger buffer (which others may share).
 */
export function releaseSamples(data: Uint8Array): void {
  const buffer = data.buffer as TransferableBuffer;
  if (typeof buffer.transfer !== 'function' || data.byteLength === 0) return;
  if (data.byteOffset !== 0 || data.byteLength !== buffer.byteLength) return;
  buffer.transfer(0);
}

/** Throws `IMAGE_TOO_MANY_PIXELS` when `width * height` is over the limit. */
export function assertPixelCount(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new AthenaError(
      'IMAGE_TOO_MANY_PIXELS',
      `The image has ${width}x${height} pixels, more than the limit of ${maxPixels}`,
    );
  }
}

/** Throws `CANCELLED` when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AthenaError('CANCELLED', 'Image preparation was cancelled');
}

/** An error of a decoder as the `DECODE_FAILED` error it means; an `AthenaError` stays as it is. */
export function asDecodeError(error: unknown): AthenaError {
  if (error instanceof AthenaError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AthenaError('DECODE_FAILED', `The image could not be decoded: ${message}`, { cause: error });
}
