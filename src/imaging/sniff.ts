import { ImageFormat } from '../generated/athena/models.js';

/**
 * The image format of encoded bytes, from their magic numbers alone (pure: no decoding, no I/O).
 *
 * | bytes start with | format |
 * |---|---|
 * | `FF D8 FF` | JPEG |
 * | `89 'PNG' 0D 0A 1A 0A` | PNG |
 * | `'GIF87a'` / `'GIF89a'` | GIF |
 * | `'BM'` + a plausible header | BMP |
 * | `'RIFF'` .... `'WEBP'` | WEBP |
 * | `'II*\0'`, `'MM\0*'` (and BigTIFF `'II+\0'`, `'MM\0+'`) | TIFF |
 * | `'P1'`/`'P4'` + white space | PBM |
 * | `'P2'`/`'P5'` + white space | PGM |
 * | `'P3'`/`'P6'` + white space | PPM |
 * | `'P7'` + white space (PAM) | PXM |
 * | `'PF'`/`'Pf'` + white space | PFM |
 * | `59 A6 6A 95` | RAS (Sun raster) |
 * | `'#?RADIANCE'` / `'#?RGBE'` | HDR |
 *
 * Several enum values name the same format under another file extension, as OpenCV's codecs do:
 * DIB is BMP, SR is RAS, PIC is HDR, and PNM/PXM stand for the whole netpbm family. This function
 * always answers the first name (BMP, RAS, HDR, and PBM/PGM/PPM by magic number); PXM is kept for
 * PAM (`P7`), which OpenCV reads too. Anything else, including empty input, is
 * `IMAGE_FORMAT_UNSPECIFIED`.
 *
 * @example
 * ```ts
 * import { detectImageFormat, ImageFormat } from 'athena-rx';
 * detectImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])) === ImageFormat.IMAGE_FORMAT_JPEG; // true
 * ```
 */
export function detectImageFormat(bytes: Uint8Array): ImageFormat {
  const b = bytes;
  if (b.length < 2) return ImageFormat.IMAGE_FORMAT_UNSPECIFIED;
  if (startsWith(b, [0xff, 0xd8, 0xff])) return ImageFormat.IMAGE_FORMAT_JPEG;
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return ImageFormat.IMAGE_FORMAT_PNG;
  if (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')) return ImageFormat.IMAGE_FORMAT_GIF;
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return ImageFormat.IMAGE_FORMAT_WEBP;
  if (isTiff(b)) return ImageFormat.IMAGE_FORMAT_TIFF;
  if (isBmp(b)) return ImageFormat.IMAGE_FORMAT_BMP;
  if (startsWith(b, [0x59, 0xa6, 0x6a, 0x95])) return ImageFormat.IMAGE_FORMAT_RAS;
  if (ascii(b, 0, '#?RADIANCE') || ascii(b, 0, '#?RGBE')) return ImageFormat.IMAGE_FORMAT_HDR;
  if (b[0] === 0x50 && b.length >= 3 && isSpace(b[2]!)) return netpbm(b[1]!);
  return ImageFormat.IMAGE_FORMAT_UNSPECIFIED;
}

function netpbm(kind: number): ImageFormat {
  switch (String.fromCharCode(kind)) {
    case '1':
    case '4':
      return ImageFormat.IMAGE_FORMAT_PBM;
    case '2':
    case '5':
      return ImageFormat.IMAGE_FORMAT_PGM;
    case '3':
    case '6':
      return ImageFormat.IMAGE_FORMAT_PPM;
    case '7':
      return ImageFormat.IMAGE_FORMAT_PXM;
    case 'F':
    case 'f':
      return ImageFormat.IMAGE_FORMAT_PFM;
    default:
      return ImageFormat.IMAGE_FORMAT_UNSPECIFIED;
  }
}

function isTiff(b: Uint8Array): boolean {
  return (
    startsWith(b, [0x49, 0x49, 0x2a, 0x00]) ||
    startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]) ||
    startsWith(b, [0x49, 0x49, 0x2b, 0x00]) ||
    startsWith(b, [0x4d, 0x4d, 0x00, 0x2b])
  );
}

/**
 * `'BM'`, two reserved zero words and a plausible info-header size (12, or 16 to 65535; OpenCV
 * reads 12 and anything from 36), so plain text starting "BM" is not a bitmap.
 */
function isBmp(b: Uint8Array): boolean {
  if (b.length < 18 || b[0] !== 0x42 || b[1] !== 0x4d) return false;
  if (b[6] !== 0 || b[7] !== 0 || b[8] !== 0 || b[9] !== 0) return false;
  const infoSize = (b[14]! | (b[15]! << 8) | (b[16]! << 16) | (b[17]! << 24)) >>> 0;
  return infoSize === 12 || (infoSize >= 16 && infoSize <= 0xffff);
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function startsWith(b: Uint8Array, prefix: readonly number[]): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

/** Whether `b` holds the ASCII `text` at `offset`. */
export function ascii(b: Uint8Array, offset: number, text: string): boolean {
  if (b.length < offset + text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[offset + i] !== text.charCodeAt(i)) return false;
  return true;
}
