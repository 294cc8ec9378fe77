/**
 * Windows bitmaps decoded as OpenCV's `BmpDecoder` does for `IMREAD_COLOR`. Pure TypeScript;
 * 24- and 32-bit files are read in place (bottom-up rows through a negative row stride).
 *
 * OpenCV's rules, kept here: 1-, 4- and 8-bit images through their palette (`clrUsed` entries,
 * 4 bytes each after the info header; 3 bytes for the 12-byte OS/2 header); 16-bit as 5-5-5 (or
 * 5-6-5 when the bit-field masks say so), each field shifted to the top of its byte without
 * replicating bits; 32-bit as B, G, R, A whatever its masks, alpha dropped; rows padded to 4 bytes,
 * bottom-up unless the height is negative. RLE-compressed bitmaps, which OpenCV also reads, are
 * refused here.
 */
import { AthenaError } from '../errors.js';
import { assertPixelCount, type DecodedPixels } from './pixels.js';

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;

/** Decodes a `BM` file; throws `DECODE_FAILED` when it is malformed, truncated or RLE-compressed. */
export function decodeBmp(bytes: Uint8Array, maxPixels: number): DecodedPixels {
  if (bytes.length < 26) throw failed('its header is truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  let width: number;
  let signedHeight: number;
  let bpp: number;
  let palette: Uint8Array | undefined;

  if (headerSize >= 36) {
    if (bytes.length < 14 + headerSize) throw failed('its header is truncated');
    width = view.getInt32(18, true);
    signedHeight = view.getInt32(22, true);
    bpp = view.getUint16(28, true);
    const compression = view.getUint32(30, true);
    const used = view.getUint32(46, true);
    if (compression === BI_RLE4 || compression === BI_RLE8)
      throw failed('RLE-compressed bitmaps are not supported');
    const supported =
      ([1, 4, 8, 24, 32].includes(bpp) && compression === BI_RGB) ||
      ((bpp === 16 || bpp === 32) && (compression === BI_RGB || compression === BI_BITFIELDS));
    if (!supported || width <= 0 || signedHeight === 0)
      throw failed(`${bpp}-bit bitmaps of compression ${compression} are not supported`);
    if (bpp <= 8) {
      if (used > 256) throw failed('its palette is larger than 256 entries');
      palette = readPalette(bytes, 14 + headerSize, used === 0 ? 1 << bpp : used, 4);
    } else if (bpp === 16) {
      if (compression === BI_RGB) bpp = 15;
      else {
        if (bytes.length < 14 + headerSize + 12) throw failed('its bit-field masks are truncated');
        const [red, green, blue] = [0, 4, 8].map((o) => view.getUint32(14 + headerSize + o, true));
        if (blue === 0x1f && green === 0x3e0 && red === 0x7c00) bpp = 15;
        else if (!(blue === 0x1f && green === 0x7e0 && red === 0xf800))
          throw failed('its 16-bit masks are neither 5-5-5 nor 5-6-5');
      }
    }
  } else if (headerSize === 12) {
    width = view.getUint16(18, true);
    signedHeight = view.getUint16(20, true);
    bpp = view.getUint16(24, true);
    if (![1, 4, 8, 24, 32].includes(bpp) || width <= 0 || signedHeight === 0)
      throw failed(`${bpp}-bit OS/2 bitmaps are not supported`);
    if (bpp <= 8) palette = readPalette(bytes, 26, 1 << bpp, 3);
  } else {
    throw failed(`its info header size ${headerSize} is unknown`);
  }

  const height = Math.abs(signedHeight);
  assertPixelCount(width, height, maxPixels);
  const pitch = ((Math.floor((width * (bpp === 15 ? 16 : bpp) + 7) / 8) + 3) & ~3) >>> 0;
  if (dataOffset + pitch * height > bytes.length) throw failed('its pixel data is truncated');
  const bottomUp = signedHeight > 0;
  const rowStart = (y: number): number => dataOffset + (bottomUp ? height - 1 - y : y) * pitch;
  const sizes = { width, height, imageWidth: width, imageHeight: height };

  if (bpp === 24 || bpp === 32) {
    const layout = {
      pixelStride: bpp / 8,
      channelOffsets: [0, 1, 2] as const,
      rowStride: bottomUp ? -pitch : pitch,
      firstRow: rowStart(0),
    };
    return { data: bytes, layout, ...sizes };
  }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0, o = 0; y < height; y++) {
    const row = rowStart(y);
    for (let x = 0; x < width; x++, o += 3) {
      if (palette) {
        const index =
          bpp === 8
            ? bytes[row + x]!
            : bpp === 4
              ? (bytes[row + (x >> 1)]! >> (x & 1 ? 0 : 4)) & 15
              : (bytes[row + (x >> 3)]! >> (7 - (x & 7))) & 1;
        out[o] = palette[index * 3]!;
        out[o + 1] = palette[index * 3 + 1]!;
        out[o + 2] = palette[index * 3 + 2]!;
      } else {
        const v = bytes[row + 2 * x]! | (bytes[row + 2 * x + 1]! << 8);
        out[o] = (v << 3) & 0xf8;
        out[o + 1] = bpp === 15 ? (v >> 2) & 0xf8 : (v >> 3) & 0xfc;
        out[o + 2] = bpp === 15 ? (v >> 7) & 0xf8 : (v >> 8) & 0xf8;
      }
    }
  }
  return { data: out, layout: { pixelStride: 3, channelOffsets: [0, 1, 2] }, ...sizes };
}

/** B, G, R of each palette entry (256 entries, missing ones black). */
function readPalette(bytes: Uint8Array, at: number, count: number, entryBytes: number): Uint8Array {
  if (at + count * entryBytes > bytes.length) throw failed('its palette is truncated');
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < count; i++)
    palette.set(bytes.subarray(at + i * entryBytes, at + i * entryBytes + 3), i * 3);
  return palette;
}

function failed(reason: string): AthenaError {
  return new AthenaError('DECODE_FAILED', `The bitmap could not be decoded: ${reason}`);
}
