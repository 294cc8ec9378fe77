import fc from 'fast-check';
import sharp, { type JpegOptions, type Metadata } from 'sharp';
import { describe, expect, it } from 'vitest';
import { readImageHeader } from '../../src/imaging/header.js';
import { prepareImage } from '../../src/imaging/prepare.js';

interface Shape {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  readonly encoding:
    'jpeg' | 'jpeg-progressive' | 'jpeg-cmyk' | 'png' | 'png16' | 'png-palette' | 'webp' | 'webp-lossless';
}

/** An image of the given shape, encoded by sharp (libvips), with noise so no encoder can shortcut it. */
async function encode(shape: Shape, seed: number): Promise<Buffer> {
  const { width, height, channels } = shape;
  const pixels = Buffer.alloc(width * height * channels);
  for (let i = 0, x = seed | 1; i < pixels.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    pixels[i] = x >>> 24;
  }
  const image = sharp(pixels, { raw: { width, height, channels } });
  if (channels <= 2) image.toColourspace('b-w'); // sharp writes sRGB unless told otherwise
  switch (shape.encoding) {
    case 'jpeg':
      return image.jpeg().toBuffer();
    case 'jpeg-progressive':
      return image.jpeg({ progressive: true }).toBuffer();
    case 'jpeg-cmyk':
      return image.toColourspace('cmyk').jpeg().toBuffer();
    case 'png':
      return image.png().toBuffer();
    case 'png16':
      return image
        .toColourspace(channels <= 2 ? 'grey16' : 'rgb16')
        .png()
        .toBuffer();
    case 'png-palette':
      return image.png({ palette: true }).toBuffer();
    case 'webp':
      return image.webp().toBuffer();
    case 'webp-lossless':
      return image.webp({ lossless: true }).toBuffer();
  }
}

/** The same facts as sharp's own probe states them. */
async function sharpFacts(bytes: Buffer): Promise<object> {
  const m = await sharp(bytes).metadata();
  return {
    format: m.format,
    width: m.width,
    height: m.height,
    grey: (m.channels ?? 3) <= 2,
    sixteen: m.depth === 'ushort',
    cmyk: m.space === 'cmyk',
    ...(m.format === 'jpeg' && m.isProgressive ? { coefficientsPerPixel: coefficients(m) } : {}),
  };
}

/** DCT coefficients per pixel from sharp's channel count and chroma subsampling. */
function coefficients(m: Metadata): number {
  if (m.channels === 1) return 1;
  const perSubsampling: Record<string, number> = { '4:4:4': 3, '4:2:2': 2, '4:2:0': 1.5, '4:4:4:4': 4 };
  const value = perSubsampling[m.chromaSubsampling ?? ''];
  if (value === undefined) throw new Error(`no coefficient count for ${String(m.chromaSubsampling)}`);
  return value;
}

const shapes = fc.record({
  width: fc.integer({ min: 1, max: 700 }),
  height: fc.integer({ min: 1, max: 700 }),
  channels: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
  encoding: fc.constantFrom(
    'jpeg' as const,
    'jpeg-progressive' as const,
    'jpeg-cmyk' as const,
    'png' as const,
    'png16' as const,
    'png-palette' as const,
    'webp' as const,
    'webp-lossless' as const,
  ),
});

describe('readImageHeader', () => {
  it('states what sharp states for JPEG, PNG and WebP of any size, channel count and encoding', async () => {
    await fc.assert(
      fc.asyncProperty(shapes, fc.integer(), async (shape, seed) => {
        const bytes = await encode(shape, seed);
        expect(readImageHeader(bytes)).toEqual(await sharpFacts(bytes));
      }),
      { numRuns: 120 },
    );
  });

  it.each([
    ['jpeg', 1, { grey: true, sixteen: false, cmyk: false }],
    ['jpeg', 3, { grey: false, sixteen: false, cmyk: false }],
    ['jpeg-cmyk', 3, { grey: false, sixteen: false, cmyk: true }],
    ['png', 2, { grey: true, sixteen: false, cmyk: false }],
    ['png16', 1, { grey: true, sixteen: true, cmyk: false }],
    ['png16', 4, { grey: false, sixteen: true, cmyk: false }],
    ['png-palette', 3, { grey: false, sixteen: false, cmyk: false }],
    ['webp-lossless', 4, { grey: false, sixteen: false, cmyk: false }],
    ['jpeg-progressive', 3, { grey: false, sixteen: false, cmyk: false, coefficientsPerPixel: 1.5 }],
    ['jpeg-progressive', 1, { grey: true, sixteen: false, cmyk: false, coefficientsPerPixel: 1 }],
  ] as const)('reads %s with %i channels as %o', async (encoding, channels, facts) => {
    const bytes = await encode({ width: 33, height: 21, channels, encoding }, 9);
    expect(readImageHeader(bytes)).toEqual({
      format: encoding.replace(/-.*|16/, ''),
      width: 33,
      height: 21,
      ...facts,
    });
    expect(readImageHeader(bytes)).toEqual(await sharpFacts(bytes));
  });

  it('counts the coefficients a progressive JPEG keeps from its sampling factors, and none for baseline', async () => {
    const noise = Buffer.alloc(64 * 48 * 3, 77);
    const jpeg = (options: JpegOptions): Promise<Buffer> =>
      sharp(noise, { raw: { width: 64, height: 48, channels: 3 } })
        .jpeg(options)
        .toBuffer();
    const full = await jpeg({ progressive: true, chromaSubsampling: '4:4:4' });
    expect(readImageHeader(full)?.coefficientsPerPixel).toBe(3);
    expect(readImageHeader(full)).toEqual(await sharpFacts(full));
    const baseline = await jpeg({ chromaSubsampling: '4:4:4' });
    expect(readImageHeader(baseline)).not.toHaveProperty('coefficientsPerPixel');
    // A sampling factor of 0 is not a frame libjpeg reads: the header is left to sharp.
    const broken = Buffer.from(full);
    const frame = broken.indexOf(Buffer.from([0xff, 0xc2]));
    broken[frame + 11] = 0x01;
    expect(readImageHeader(broken)).toBeUndefined();
  });

  it('reads the frame, not a thumbnail inside an APP segment', async () => {
    const main = await encode({ width: 300, height: 200, channels: 3, encoding: 'jpeg' }, 1);
    const thumb = await encode({ width: 16, height: 8, channels: 1, encoding: 'jpeg' }, 2);
    const app1 = Buffer.alloc(4);
    app1.writeUInt16BE(0xffe1, 0);
    app1.writeUInt16BE(2 + thumb.length, 2);
    const withThumb = Buffer.concat([main.subarray(0, 2), app1, thumb, main.subarray(2)]);
    expect(readImageHeader(withThumb)).toMatchObject({ width: 300, height: 200, grey: false });
    expect((await prepareImage(withThumb)).width).toBe(300);
  });

  it('skips fill bytes between JPEG segments', async () => {
    const jpeg = await encode({ width: 40, height: 30, channels: 1, encoding: 'jpeg' }, 3);
    const padded = Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xff]), jpeg.subarray(2)]);
    expect(readImageHeader(padded)).toMatchObject({ format: 'jpeg', width: 40, height: 30, grey: true });
  });

  it('leaves other formats, unusual layouts and damaged headers to sharp', async () => {
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } })
      .gif()
      .toBuffer();
    const tiff = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } })
      .tiff()
      .toBuffer();
    const jpeg = await encode({ width: 40, height: 30, channels: 3, encoding: 'jpeg' }, 4);
    const png = await encode({ width: 40, height: 30, channels: 3, encoding: 'png' }, 5);
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    const twelveBit = Buffer.from(jpeg);
    twelveBit[sof + 4] = 12;
    const twoComponents = Buffer.from(jpeg);
    twoComponents[sof + 9] = 2;
    const badColourType = Buffer.from(png);
    badColourType[25] = 5;
    const noIhdr = Buffer.from(png);
    noIhdr.write('IHDX', 12, 'latin1');
    for (const bytes of [
      gif,
      tiff,
      twelveBit,
      twoComponents,
      jpeg.subarray(0, sof), // cut before the frame header
      Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2]), // a scan before any frame
      badColourType,
      noIhdr,
      png.subarray(0, 20),
      Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 \x04\x00\x00\x00\x00\x00\x00\x00\x00\x00', 'latin1'),
      new Uint8Array(0),
    ]) {
      expect(readImageHeader(bytes)).toBeUndefined();
    }
  });

  it('gives the decoder the same answer either way: a PNG equals its TIFF twin, read through sharp', async () => {
    for (const channels of [2, 3] as const) {
      const png = await encode({ width: 61, height: 47, channels, encoding: 'png16' }, 6);
      const tiff = await sharp(png) // TIFF goes through sharp's probe
        .toColourspace(channels === 2 ? 'grey16' : 'rgb16')
        .tiff({ compression: 'lzw' })
        .toBuffer();
      expect(await sharpFacts(tiff)).toMatchObject({ format: 'tiff', sixteen: true, grey: channels === 2 });
      const viaHeader = await prepareImage(png);
      const viaProbe = await prepareImage(tiff);
      expect(Buffer.from(viaHeader.data).equals(Buffer.from(viaProbe.data))).toBe(true);
      expect([viaHeader.width, viaHeader.height]).toEqual([61, 47]);
    }
  });

  it('refuses an image over the pixel limit from its header, with its size in the message', async () => {
    const png = await encode({ width: 100, height: 100, channels: 3, encoding: 'png' }, 7);
    await expect(prepareImage(png, { maxPixels: 9_999 })).rejects.toMatchObject({
      code: 'IMAGE_TOO_MANY_PIXELS',
      message: expect.stringContaining('100x100') as unknown,
    });
  });
});
