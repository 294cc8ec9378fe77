/**
 * The `fast` decoding in the browser: the browser's own decoder through `createImageBitmap` (EXIF
 * orientation applied, no colour conversion, alpha not premultiplied) and a canvas readback, then
 * the same bilinear step as the exact path. Native decoding is several times quicker than the
 * WebAssembly decoders, but its samples are the browser's, not OpenCV's: JPEG upsampling and IDCT,
 * transparent pixels (a canvas stores premultiplied colour) and, in some browsers, noise added to
 * canvas readback on purpose, can all move values (see docs/browser.md for the measured drift).
 * Browsers differ in the EXIF orientations they apply (Chromium ignores WebP's), so each format is
 * probed once with a 2 x 1 image marked "turned 90°", and the orientation is applied here where the
 * browser did not. Runs in a worker.
 */
import { AthenaError } from '../errors.js';
import { readImageHeader, type ImageHeader } from '../imaging/header.js';
import { exifOrientation, orientPixels } from '../imaging/orientation.js';
import { asDecodeError, assertPixelCount, samplesLayout, type DecodedPixels } from '../imaging/pixels.js';

interface Bitmap {
  readonly width: number;
  readonly height: number;
  close(): void;
}
interface Context2d {
  drawImage(image: Bitmap, x: number, y: number): void;
  getImageData(x: number, y: number, w: number, h: number): { readonly data: Uint8ClampedArray };
}
interface BitmapApi {
  createImageBitmap(blob: unknown, options: Record<string, string>): Promise<Bitmap>;
  OffscreenCanvas: new (
    width: number,
    height: number,
  ) => {
    getContext(kind: '2d', options: Record<string, unknown>): Context2d | null;
  };
  Blob: new (parts: readonly Uint8Array[]) => unknown;
}

/** 2 x 1 images with EXIF orientation 6: a browser that applies it decodes them as 1 x 2. */
const PROBES: Record<ImageHeader['format'], string> = {
  jpeg: '/9j/4QC8RXhpZgAASUkqAAgAAAAGABIBAwABAAAABgAAABoBBQABAAAAVgAAABsBBQABAAAAXgAAACgBAwABAAAAAgAAABMCAwABAAAAAQAAAGmHBAABAAAAZgAAAAAAAAA4YwAA6AMAADhjAADoAwAABgAAkAcABAAAADAyMTABkQcABAAAAAECAwAAoAcABAAAADAxMDABoAMAAQAAAP//AAACoAQAAQAAAAIAAAADoAQAAQAAAAEAAAAAAAAA/9sAQwAGBAUGBQQGBgUGBwcGCAoQCgoJCQoUDg8MEBcUGBgXFBYWGh0lHxobIxwWFiAsICMmJykqKRkfLTAtKDAlKCko/9sAQwEHBwcKCAoTCgoTKBoWGigoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgo/8AAEQgAAQACAwEiAAIRAQMRAf/EABUAAQEAAAAAAAAAAAAAAAAAAAAH/8QAGxABAAAHAAAAAAAAAAAAAAAAAAECBAU0c7H/xAAVAQEBAAAAAAAAAAAAAAAAAAAECP/EABwRAAAGAwAAAAAAAAAAAAAAAAABAzRysQIEBf/aAAwDAQACEQMRAD8Agdwz6nbN2IChec0SjjRAW+6VkdmP/9k=',
  png: 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAAtGVYSWZJSSoACAAAAAYAEgEDAAEAAAAGAAAAGgEFAAEAAABWAAAAGwEFAAEAAABeAAAAKAEDAAEAAAACAAAAEwIDAAEAAAABAAAAaYcEAAEAAABmAAAAAAAAADhjAADoAwAAOGMAAOgDAAAGAACQBwAEAAAAMDIxMAGRBwAEAAAAAQIDAACgBwAEAAAAMDEwMAGgAwABAAAA//8AAAKgBAABAAAAAgAAAAOgBAABAAAAAQAAAAAAAABnMuHxAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAD0lEQVQImWP4z8DAwPAfAAcAAf/89wURAAAAAElFTkSuQmCC',
  webp: 'UklGRvIAAABXRUJQVlA4WAoAAAAIAAAAAQAAAAAAVlA4TBEAAAAvAQAAAA8Q87//8x8OMqL/AQBFWElGugAAAEV4aWYAAElJKgAIAAAABgASAQMAAQAAAAYAAAAaAQUAAQAAAFYAAAAbAQUAAQAAAF4AAAAoAQMAAQAAAAIAAAATAgMAAQAAAAEAAABphwQAAQAAAGYAAAAAAAAAOGMAAOgDAAA4YwAA6AMAAAYAAJAHAAQAAAAwMjEwAZEHAAQAAAABAgMAAKAHAAQAAAAwMTAwAaADAAEAAAD//wAAAqAEAAEAAAACAAAAA6AEAAEAAAABAAAAAAAAAA==',
};
const BITMAP_OPTIONS = {
  imageOrientation: 'from-image',
  colorSpaceConversion: 'none',
  premultiplyAlpha: 'none',
};
const orienting = new Map<ImageHeader['format'], Promise<boolean>>();

/** Whether this browser applies the EXIF orientation of `format` itself (asked once per worker). */
function browserOrients(api: BitmapApi, format: ImageHeader['format']): Promise<boolean> {
  let answer = orienting.get(format);
  if (!answer) {
    const probe = Uint8Array.from(atob(PROBES[format]), (c) => c.charCodeAt(0));
    answer = api.createImageBitmap(new api.Blob([probe]), BITMAP_OPTIONS).then(
      (bitmap) => {
        const turned = bitmap.height === 2;
        bitmap.close();
        return turned;
      },
      () => true, // cannot tell: trust the browser
    );
    orienting.set(format, answer);
  }
  return answer;
}

/** Decodes any format the browser reads into RGBA pixels laid out for the bilinear step. */
export async function decodeWithBitmap(bytes: Uint8Array, maxPixels: number): Promise<DecodedPixels> {
  const api = globalThis as unknown as BitmapApi;
  if (!('createImageBitmap' in api && 'OffscreenCanvas' in api && 'Blob' in api)) {
    throw new AthenaError('UNIMPLEMENTED', "mode 'fast' needs createImageBitmap and OffscreenCanvas");
  }
  const header = readImageHeader(bytes);
  if (header) assertPixelCount(header.width, header.height, maxPixels);
  let bitmap: Bitmap;
  try {
    bitmap = await api.createImageBitmap(new api.Blob([bytes]), BITMAP_OPTIONS);
  } catch (error) {
    throw asDecodeError(error);
  }
  try {
    const { width, height } = bitmap;
    assertPixelCount(width, height, maxPixels);
    const context = new api.OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    if (!context) throw new AthenaError('UNIMPLEMENTED', 'no 2d canvas context in this worker');
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, width, height);
    const samples = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const orientation = header ? exifOrientation(bytes) : 1;
    const turn = orientation !== 1 && header && !(await browserOrients(api, header.format));
    const upright = turn
      ? orientPixels(samples, width, height, 4, orientation)
      : { data: samples, width, height };
    const layout = samplesLayout(4, false);
    return { ...upright, layout, imageWidth: upright.width, imageHeight: upright.height };
  } finally {
    bitmap.close();
  }
}
