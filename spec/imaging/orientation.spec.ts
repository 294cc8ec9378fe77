/** EXIF orientation read and applied without a codec, checked against sharp's `autoOrient`. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { exifOrientation, orientPixels, type Orientation } from '../../src/imaging/orientation.js';

const WIDTH = 5;
const HEIGHT = 3;
/** RGBA pixels, each one different: R = x, G = y, B = a unique number, A = 255. */
const RGBA = Uint8Array.from({ length: WIDTH * HEIGHT * 4 }, (_, i) => {
  const p = i >> 2;
  return [p % WIDTH, Math.floor(p / WIDTH), p * 7, 255][i & 3]!;
});

describe('EXIF orientation', () => {
  for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8] as Orientation[]) {
    it(`orientation ${orientation}: read from PNG, WebP and JPEG, and turned as sharp turns it`, async () => {
      const image = sharp(RGBA, { raw: { width: WIDTH, height: HEIGHT, channels: 4 } });
      const png = await image.clone().png().withMetadata({ orientation }).toBuffer();
      const webp = await image.clone().webp({ lossless: true }).withMetadata({ orientation }).toBuffer();
      const jpeg = await image.clone().jpeg().withMetadata({ orientation }).toBuffer();
      expect([exifOrientation(png), exifOrientation(webp), exifOrientation(jpeg)]).toEqual([
        orientation,
        orientation,
        orientation,
      ]);
      const upright = await sharp(png).autoOrient().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const ours = orientPixels(RGBA, WIDTH, HEIGHT, 4, orientation);
      expect([ours.width, ours.height]).toEqual([upright.info.width, upright.info.height]);
      expect(Buffer.from(ours.data).equals(upright.data)).toBe(true);
    });
  }

  it('is 1 for images without EXIF or with a damaged block, and for other formats', async () => {
    const plain = await sharp(RGBA, { raw: { width: WIDTH, height: HEIGHT, channels: 4 } })
      .png()
      .toBuffer();
    expect(exifOrientation(plain)).toBe(1);
    expect(exifOrientation(new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0, 8, 0x45, 0x78]))).toBe(1);
    expect(exifOrientation(new TextEncoder().encode('GIF89a...'))).toBe(1);
  });
});
