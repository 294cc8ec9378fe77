/**
 * EXIF orientation without a codec library: the orientation tag read from a JPEG's APP1 `Exif`
 * segment, a PNG's `eXIf` chunk or a WebP's `EXIF` chunk, and the pixels of a decoded image turned
 * the way `imdecode` (and sharp's `autoOrient`) turns them. No Node imports.
 */
import { jpegSegments } from './header.js';
import { ascii } from './sniff.js';

/** An EXIF orientation, 1 (as stored) to 8. */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** The EXIF orientation of a JPEG, PNG or WebP; 1 when there is none or it is out of range. */
export function exifOrientation(b: Uint8Array): Orientation {
  const tiff = exifBlock(b);
  return tiff === undefined ? 1 : tiffOrientation(b, tiff);
}

/** Whether an orientation swaps width and height (5 to 8). */
export function swapsAxes(orientation: Orientation): boolean {
  return orientation >= 5;
}

/**
 * Turns `width` x `height` pixels of `bytesPerPixel` bytes (a multiple of 4) from their stored
 * orientation to the upright one; returns new pixels and their size, or the same ones for 1.
 */
export function orientPixels(
  data: Uint8Array,
  width: number,
  height: number,
  bytesPerPixel: number,
  orientation: Orientation,
): { data: Uint8Array; width: number; height: number } {
  if (orientation === 1) return { data, width, height };
  const words = bytesPerPixel / 4;
  if (!Number.isInteger(words) || words < 1) throw new RangeError('bytesPerPixel must be a multiple of 4');
  const aligned = data.byteOffset % 4 === 0 ? data : data.slice();
  const src = new Uint32Array(aligned.buffer, aligned.byteOffset, width * height * words);
  const swap = swapsAxes(orientation);
  const [ow, oh] = swap ? [height, width] : [width, height];
  const out = new Uint32Array(ow * oh * words);
  // Where output pixel (x, y) is read from: sx = ax + bx * x + cx * y, sy = ay + by * x + cy * y.
  const [ax, bx, cx, ay, by, cy] = MAPS[orientation](width - 1, height - 1);
  for (let y = 0, o = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++, o += words) {
      const s = ((ay + by * x + cy * y) * width + (ax + bx * x + cx * y)) * words;
      for (let w = 0; w < words; w++) out[o + w] = src[s + w]!;
    }
  }
  return { data: new Uint8Array(out.buffer), width: ow, height: oh };
}

type Map6 = readonly [number, number, number, number, number, number];
const MAPS: Record<Orientation, (w1: number, h1: number) => Map6> = {
  1: () => [0, 1, 0, 0, 0, 1],
  2: (w1) => [w1, -1, 0, 0, 0, 1], // mirrored left to right
  3: (w1, h1) => [w1, -1, 0, h1, 0, -1], // turned 180°
  4: (_w1, h1) => [0, 1, 0, h1, 0, -1], // mirrored top to bottom
  5: () => [0, 0, 1, 0, 1, 0], // transposed
  6: (_w1, h1) => [0, 0, 1, h1, -1, 0], // turned 90° clockwise
  7: (w1, h1) => [w1, 0, -1, h1, -1, 0], // transversed
  8: (w1) => [w1, 0, -1, 0, 1, 0], // turned 90° counter-clockwise
};

/** The offset of the TIFF header of the image's EXIF block, if it has one. */
function exifBlock(b: Uint8Array): number | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    for (const { marker, at, length } of jpegSegments(b)) {
      if (marker === 0xe1 && length >= 16 && ascii(b, at + 4, 'Exif\0\0')) return at + 10;
    }
    return undefined;
  }
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 'PNG')) {
    for (let at = 8; at + 12 <= b.length; at += 12 + u32be(b, at)) {
      if (ascii(b, at + 4, 'eXIf')) return at + 8;
      if (ascii(b, at + 4, 'IDAT') || ascii(b, at + 4, 'IEND')) return undefined;
    }
    return undefined;
  }
  if (b.length >= 16 && ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) {
    for (let at = 12; at + 8 <= b.length; at += 8 + u32le(b, at + 4) + (u32le(b, at + 4) & 1)) {
      if (ascii(b, at, 'EXIF')) return ascii(b, at + 8, 'Exif\0\0') ? at + 14 : at + 8;
    }
  }
  return undefined;
}

/** The orientation tag (0x0112) of IFD0 of the TIFF structure at `t`; 1 when absent or invalid. */
function tiffOrientation(b: Uint8Array, t: number): Orientation {
  if (t + 8 > b.length) return 1;
  const little = ascii(b, t, 'II');
  if (!little && !ascii(b, t, 'MM')) return 1;
  const u16 = (i: number): number => (little ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!);
  const u32 = (i: number): number => (little ? u32le(b, i) : u32be(b, i));
  if (u16(t + 2) !== 42) return 1;
  const ifd = t + u32(t + 4);
  if (ifd + 2 > b.length) return 1;
  const count = u16(ifd);
  for (let i = 0, e = ifd + 2; i < count && e + 12 <= b.length; i++, e += 12) {
    if (u16(e) !== 0x0112) continue;
    const value = u16(e + 2) === 3 ? u16(e + 8) : 0; // SHORT
    return value >= 1 && value <= 8 ? (value as Orientation) : 1;
  }
  return 1;
}

const u32be = (b: Uint8Array, i: number): number =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const u32le = (b: Uint8Array, i: number): number =>
  (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
