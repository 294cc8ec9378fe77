/**
 * The encoded formats as the embedded server treats them: their names in messages, the ones it
 * refuses (with the documented message), and packing decoded pixels into the model's B, G, R bytes.
 */
import { ImageFormat } from '../generated/athena/models.js';
import { type DecodedPixels } from '../imaging/decode.js';
import { MODEL_INPUT_BYTES } from './labels.js';

/** How the messages name each encoded format (the first of its enum names, as sniffed). */
export const FORMAT_NAMES: Readonly<Record<number, string>> = {
  [ImageFormat.IMAGE_FORMAT_GIF]: 'GIF',
  [ImageFormat.IMAGE_FORMAT_JPEG]: 'JPEG',
  [ImageFormat.IMAGE_FORMAT_BMP]: 'BMP',
  [ImageFormat.IMAGE_FORMAT_PNG]: 'PNG',
  [ImageFormat.IMAGE_FORMAT_WEBP]: 'WebP',
  [ImageFormat.IMAGE_FORMAT_PBM]: 'PBM',
  [ImageFormat.IMAGE_FORMAT_PGM]: 'PGM',
  [ImageFormat.IMAGE_FORMAT_PPM]: 'PPM',
  [ImageFormat.IMAGE_FORMAT_TIFF]: 'TIFF',
};

/** Formats OpenCV reads but no decoder here does, with the refusal each gets (code `UNSPECIFIED`). */
export const NOT_DECODED: ReadonlyMap<ImageFormat, string> = new Map([
  [ImageFormat.IMAGE_FORMAT_PXM, 'PAM (P7) images are not decoded by the embedded server'],
  [ImageFormat.IMAGE_FORMAT_PFM, 'PFM (floating-point) images are not decoded by the embedded server'],
  [ImageFormat.IMAGE_FORMAT_RAS, 'Sun raster (SR/RAS) images are not decoded by the embedded server'],
  [ImageFormat.IMAGE_FORMAT_HDR, 'Radiance HDR (HDR/PIC) images are not decoded by the embedded server'],
]);

/** The B, G, R samples of a decoded 448 x 448 image, packed (a copy when the layout is not packed). */
export function packBgr(d: DecodedPixels): Uint8Array {
  const { pixelStride, channelOffsets, rowStride = d.width * pixelStride, firstRow = 0 } = d.layout;
  const [b, g, r] = channelOffsets;
  const packed = pixelStride === 3 && b === 0 && g === 1 && r === 2 && rowStride === d.width * 3;
  if (packed && firstRow === 0 && d.data.length === MODEL_INPUT_BYTES) return d.data;
  const out = new Uint8Array(MODEL_INPUT_BYTES);
  for (let y = 0, o = 0; y < d.height; y++) {
    const row = firstRow + y * rowStride;
    for (let x = 0, p = row; x < d.width; x++, p += pixelStride, o += 3) {
      out[o] = d.data[p + b]!;
      out[o + 1] = d.data[p + g]!;
      out[o + 2] = d.data[p + r]!;
    }
  }
  return out;
}
