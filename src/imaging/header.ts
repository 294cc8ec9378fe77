/**
 * What exact decoding must know before it asks sharp for pixels, read from the header bytes of the
 * common formats in JavaScript. Asking sharp for the same facts (`metadata()`) costs a second round
 * trip through libuv's thread pool per image, which shows when every core is decoding: this read
 * costs microseconds and no thread. Formats or layouts not handled here answer `undefined`, and the
 * caller asks sharp.
 */
import { ascii } from './sniff.js';

/** The facts of an image header that choose how it is decoded. */
export interface ImageHeader {
  readonly format: 'jpeg' | 'png' | 'webp';
  /** Stored size (before EXIF orientation; the pixel count is the same either way). */
  readonly width: number;
  readonly height: number;
  /** One grey channel (with or without alpha), as libvips reads it. */
  readonly grey: boolean;
  /** 16 bits per sample. */
  readonly sixteen: boolean;
  /** Four-channel CMYK (or YCCK) JPEG. */
  readonly cmyk: boolean;
  /**
   * A progressive JPEG's DCT coefficients per pixel (1.5 with 4:2:0 chroma, 3 with full-resolution
   * chroma), all of which libjpeg keeps until the last scan is read; absent for baseline JPEGs and
   * the other formats, whose decoders keep a few rows.
   */
  readonly coefficientsPerPixel?: number;
}

/** The header of a JPEG, PNG or WebP, or `undefined` when the bytes are anything else or unusual. */
export function readImageHeader(b: Uint8Array): ImageHeader | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpeg(b);
  if (b.length >= 26 && u32(b, 0) === 0x89504e47 && u32(b, 4) === 0x0d0a1a0a) return png(b);
  if (b.length >= 30 && ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return webp(b);
  return undefined;
}

/**
 * The first start-of-frame segment: 8-bit precision and 1, 3 or 4 components, the ones libjpeg reads
 * as grey, colour (YCbCr or RGB) and CMYK (or YCCK). Segments are walked by their lengths, so
 * thumbnails inside APP segments are never mistaken for the frame.
 */
function jpeg(b: Uint8Array): ImageHeader | undefined {
  for (const { marker, at, length } of jpegSegments(b)) {
    // Standalone markers (another start of image, restarts, TEM): no frame header before them.
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7) || length < 2)
      return undefined;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (!isFrame) continue;
    if (length < 8 || at + 10 > b.length || b[at + 4] !== 8) return undefined;
    const components = b[at + 9]!;
    if (components !== 1 && components !== 3 && components !== 4) return undefined;
    const height = u16(b, at + 5);
    const width = u16(b, at + 7);
    const header = {
      format: 'jpeg',
      width,
      height,
      grey: components === 1,
      sixteen: false,
      cmyk: components === 4,
    } as const;
    const progressive = marker === 0xc2 || marker === 0xc6 || marker === 0xca || marker === 0xce;
    if (!progressive) return header;
    const coefficients = coefficientsPerPixel(b, at, components);
    return coefficients === undefined ? undefined : { ...header, coefficientsPerPixel: coefficients };
  }
  return undefined;
}

/**
 * Coefficients per pixel from a frame's sampling factors (component i at `at + 10 + 3i`: H in the
 * high nibble, V in the low): each component holds H x V / (Hmax x Vmax) per pixel. `undefined` when
 * the segment is cut short or a factor is outside 1..4.
 */
function coefficientsPerPixel(b: Uint8Array, at: number, components: number): number | undefined {
  if (at + 10 + 3 * components > b.length) return undefined;
  const factors: [number, number][] = [];
  for (let i = 0; i < components; i++) {
    const sampling = b[at + 11 + 3 * i]!;
    const h = sampling >> 4;
    const v = sampling & 0x0f;
    if (h < 1 || h > 4 || v < 1 || v > 4) return undefined;
    factors.push([h, v]);
  }
  const hMax = Math.max(...factors.map(([h]) => h));
  const vMax = Math.max(...factors.map(([, v]) => v));
  return factors.reduce((sum, [h, v]) => sum + (h * v) / (hMax * vMax), 0);
}

/** A JPEG marker segment: its marker byte, the offset of its `FF`, and its length field. */
export interface JpegSegment {
  readonly marker: number;
  readonly at: number;
  readonly length: number;
}

/**
 * The marker segments of a JPEG after its start-of-image marker, walked by their lengths (fill bytes
 * skipped), up to the first start of scan or end of image, or up to bytes that are not a marker.
 */
export function* jpegSegments(b: Uint8Array): Generator<JpegSegment> {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return;
    const length = u16(b, i + 2);
    yield { marker, at: i, length };
    i += 2 + length;
  }
}

/** IHDR, the first chunk: bit depth 1 to 16 and colour types 0 (grey), 2, 3 (palette), 4 (grey + alpha), 6. */
function png(b: Uint8Array): ImageHeader | undefined {
  if (u32(b, 8) !== 13 || !ascii(b, 12, 'IHDR')) return undefined;
  const depth = b[24]!;
  const colour = b[25]!;
  if (![1, 2, 4, 8, 16].includes(depth) || ![0, 2, 3, 4, 6].includes(colour)) return undefined;
  const grey = colour === 0 || colour === 4;
  return { format: 'png', width: u32(b, 16), height: u32(b, 20), grey, sixteen: depth === 16, cmyk: false };
}

/** The canvas of an extended WebP (`VP8X`), or the frame of a simple lossy (`VP8 `) or lossless (`VP8L`) one. */
function webp(b: Uint8Array): ImageHeader | undefined {
  let size: [number, number] | undefined;
  if (ascii(b, 12, 'VP8X')) {
    size = [1 + u24le(b, 24), 1 + u24le(b, 27)];
  } else if (ascii(b, 12, 'VP8 ') && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    size = [u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff];
  } else if (ascii(b, 12, 'VP8L') && b[20] === 0x2f) {
    const bits = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
    size = [1 + (bits & 0x3fff), 1 + ((bits >>> 14) & 0x3fff)];
  }
  if (size === undefined) return undefined;
  return { format: 'webp', width: size[0], height: size[1], grey: false, sixteen: false, cmyk: false };
}

const u16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32 = (b: Uint8Array, i: number): number => ((b[i]! << 24) | (b[i + 1]! << 16) | u16(b, i + 2)) >>> 0;
