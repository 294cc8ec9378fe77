/**
 * What decoding an image holds in memory, in pixels' worth (three bytes, one RGB pixel of output),
 * from its header alone: what the pixel budget of `resize` charges an image. Measured on libvips
 * 8.18 (the high-water mark of one decode, corpus photos of 1 to 12 megapixels): baseline JPEG and
 * PNG about 3.5 bytes per pixel (the output and a few rows), progressive JPEG 6 to 7 with 4:2:0
 * chroma (libjpeg keeps every DCT coefficient, two bytes each, until the last scan), lossy WebP
 * about 10 (libwebp's frame, libvips's copy of it and the output).
 */
import { type ImageHeader } from './header.js';

/** WebP decodes through two full frames besides the output: 10 bytes a pixel, 10/3 pixels' worth. */
export const WEBP_DECODE_FACTOR = 10 / 3;

/**
 * The pixels' worth of memory decoding an image with this header holds: its pixels (twice them for
 * 16-bit samples), times (3 + 2 x coefficients per pixel) / 3 for a progressive JPEG (2 with 4:2:0
 * chroma, 3 with full chroma) and {@link WEBP_DECODE_FACTOR} for WebP.
 */
export function decodeWeight(header: ImageHeader): number {
  // 16-bit samples come out at two bytes each.
  const pixels = header.width * header.height * (header.sixteen ? 2 : 1);
  if (header.format === 'webp') return Math.ceil(pixels * WEBP_DECODE_FACTOR);
  if (header.coefficientsPerPixel !== undefined) {
    return Math.ceil((pixels * (3 + 2 * header.coefficientsPerPixel)) / 3);
  }
  return pixels;
}
