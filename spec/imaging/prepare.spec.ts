import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, describeOnCorpus } from '../support/corpus.js';
import { AthenaError } from '../../src/errors.js';
import { ImageFormat } from '../../src/generated/athena/models.js';
import { MODEL_INPUT_BYTES, prepareImage, type PreparedImage } from '../../src/imaging/prepare.js';
import {
  hasChunk,
  truncatedAfterHeader,
  withClaimedSize,
  withoutChunk,
} from '../fixtures/imaging/png-chunks.js';
import { loadOracle, maxAbsDiff, testPattern, type Oracle } from './opencv-oracle.js';

const RAW = ImageFormat.IMAGE_FORMAT_RAW_UINT8_BGR;

let oracle: Oracle;
beforeAll(async () => {
  oracle = await loadOracle();
});

const rawImage = (data: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4) =>
  sharp(data, { raw: { width, height, channels } });
const pattern = (width: number, height: number, channels: 1 | 2 | 3 | 4, seed = 1) =>
  rawImage(testPattern(width, height, channels, seed), width, height, channels);

/**
 * The reference, by an independent route: sharp's own conversion to 8-bit sRGB (which also keeps the
 * high byte of 16-bit samples), alpha removed, then OpenCV's cvtColor and resize.
 */
async function reference(bytes: Uint8Array): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(bytes, { autoOrient: true, ignoreIcc: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  const bgr = oracle.rgbToBgr(data, info.width, info.height);
  return {
    data: oracle.resize(bgr, info.width, info.height, 448, 448),
    width: info.width,
    height: info.height,
  };
}

async function expectExact(bytes: Uint8Array): Promise<PreparedImage> {
  const [prepared, expected] = await Promise.all([prepareImage(bytes), reference(bytes)]);
  expect(prepared.format).toBe(RAW);
  expect(prepared.data.length).toBe(MODEL_INPUT_BYTES);
  expect([prepared.width, prepared.height]).toEqual([expected.width, expected.height]);
  expect(maxAbsDiff(prepared.data, expected.data)).toBe(0);
  return prepared;
}

/** The first pixels' B, G, R of a prepared image. */
const pixelsOf = (data: Uint8Array, count = data.length / 3): number[][] =>
  Array.from({ length: count }, (_, i) => [data[i * 3]!, data[i * 3 + 1]!, data[i * 3 + 2]!]);
/** Packed BGR from any pixel source: `bgrAt(p)` gives pixel p's B, G, R. */
const bgrImage = (bgrAt: (p: number) => readonly number[]): Uint8Array => {
  const out = new Uint8Array(MODEL_INPUT_BYTES);
  for (let p = 0; p < 448 * 448; p++) out.set(bgrAt(p), p * 3);
  return out;
};
const uniquePixels = (data: Uint8Array): string[] => [...new Set(pixelsOf(data).map((p) => p.join(',')))];

async function rejection(promise: Promise<unknown>): Promise<AthenaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AthenaError);
  return error as AthenaError;
}

describe('prepareImage against OpenCV on synthetic images', () => {
  it.each([
    ['1x1', 1, 1],
    ['2x1', 2, 1],
    ['447x449', 447, 449],
    ['896x896 (2x: area path)', 896, 896],
    ['448x448 (same size: copy)', 448, 448],
    ['449x8000', 449, 8000],
    ['100x60 (upscale)', 100, 60],
    ['300x500 (mixed)', 300, 500],
  ])('%s PNG is bit-exact', async (_name, width, height) => {
    const png = await pattern(width, height, 3, width + height)
      .png({ compressionLevel: 1 })
      .toBuffer();
    const prepared = await expectExact(png);
    expect([prepared.width, prepared.height]).toEqual([width, height]);
  });

  it('a 4:2:0 JPEG and a lossy WebP are bit-exact', async () => {
    await expectExact(await pattern(1000, 750, 3, 2).jpeg({ quality: 80 }).toBuffer());
    await expectExact(await pattern(900, 500, 3, 3).webp({ quality: 70 }).toBuffer());
  });

  it('grey, grey+alpha, palette, RGBA and 16-bit PNGs are bit-exact', async () => {
    const grey = await pattern(500, 300, 1).toColourspace('b-w').png().toBuffer();
    const greyAlpha = await pattern(500, 300, 2).toColourspace('b-w').png().toBuffer();
    const palette = await pattern(500, 300, 3).png({ palette: true, colours: 64, dither: 0 }).toBuffer();
    const rgba = await pattern(500, 300, 4).png().toBuffer();
    const sixteen = await sharp(new Uint16Array(testPattern(500, 300, 6).buffer), {
      raw: { width: 500, height: 300, channels: 3 },
    })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    const metas = await Promise.all(
      [grey, greyAlpha, palette, rgba, sixteen].map((b) => sharp(b).metadata()),
    );
    expect(metas.map((m) => [m.channels, m.isPalette, m.depth])).toEqual([
      [1, false, 'uchar'],
      [2, false, 'uchar'],
      [3, true, 'uchar'],
      [4, false, 'uchar'],
      [3, false, 'ushort'],
    ]);
    for (const png of [grey, greyAlpha, palette, rgba, sixteen]) await expectExact(png);
  });

  it('an EXIF-rotated JPEG is oriented first: size swapped, corners moved, bit-exact', async () => {
    // Left half red, right half blue, top row of blocks green: orientation 6 turns it 90° clockwise.
    const [w, h] = [64, 32];
    const rgb = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const colour = y < 8 ? [0, 255, 0] : x < w / 2 ? [255, 0, 0] : [0, 0, 255];
        rgb.set(colour, (y * w + x) * 3);
      }
    }
    const jpeg = await rawImage(rgb, w, h, 3)
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const prepared = await expectExact(jpeg);
    expect([prepared.width, prepared.height]).toEqual([h, w]);
    const at = (x: number, y: number) => [
      ...prepared.data.subarray((y * 448 + x) * 3, (y * 448 + x) * 3 + 3),
    ];
    const near = (actual: number[], bgr: number[]) =>
      expect(actual.every((v, i) => Math.abs(v - bgr[i]!) <= 12)).toBe(true);
    near(at(2, 2), [0, 0, 255]); // top-left was bottom-left: red
    near(at(445, 2), [0, 255, 0]); // top-right was top-left: green
    near(at(2, 445), [255, 0, 0]); // bottom-left was bottom-right: blue
  });

  it('the first frame of an animated GIF and WebP', async () => {
    const frames = testPattern(120, 160, 4, 4).map((v, i) => (i % 4 === 3 ? 255 : v));
    const animated = sharp(frames, { raw: { width: 120, height: 160, channels: 4, pageHeight: 80 } });
    for (const bytes of [
      await animated.clone().gif({ loop: 0 }).toBuffer(),
      await animated.clone().webp({ lossless: true, loop: 0 }).toBuffer(),
    ]) {
      expect((await sharp(bytes).metadata()).pages).toBe(2);
      const prepared = await expectExact(bytes);
      expect([prepared.width, prepared.height]).toEqual([120, 80]);
    }
  });
});

describeOnCorpus('prepareImage against OpenCV on real photos', () => {
  it.each(['01-bridge.jpg', '07-brushes.jpg', '16-colorfulcups.jpg', '20-aitzgorri.webp', '23-kleiber.png'])(
    '%s is bit-exact',
    async (name) => {
      await expectExact(readFileSync(CORPUS + name));
    },
  );
});

describe('prepareImage decodes as imdecode(IMREAD_COLOR)', () => {
  it('golden: pure red becomes 00 00 FF everywhere, a 1x1 blue FF 00 00', async () => {
    const red = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const blue = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#0000ff' } })
      .png()
      .toBuffer();
    expect(uniquePixels((await prepareImage(red)).data)).toEqual(['0,0,255']);
    expect(uniquePixels((await prepareImage(blue)).data)).toEqual(['255,0,0']);
  });

  it('repeats grey into B, G and R, ignoring a grey alpha', async () => {
    const grey = testPattern(448, 448, 1, 8);
    const greyAlpha = new Uint8Array(448 * 448 * 2).map((_, i) => (i % 2 ? i & 255 : grey[i >> 1]!));
    for (const png of [
      await rawImage(grey, 448, 448, 1).toColourspace('b-w').png().toBuffer(),
      await rawImage(greyAlpha, 448, 448, 2).toColourspace('b-w').png().toBuffer(),
    ]) {
      const { data } = await prepareImage(png);
      expect(
        maxAbsDiff(
          data,
          bgrImage((p) => [grey[p]!, grey[p]!, grey[p]!]),
        ),
      ).toBe(0);
    }
  });

  it('drops alpha without compositing: transparent pixels keep their colour', async () => {
    const rgba = testPattern(448, 448, 4, 9).map((v, i) => (i % 4 === 3 ? ((i >> 2) % 3 === 0 ? 0 : v) : v));
    const { data } = await prepareImage(await rawImage(rgba, 448, 448, 4).png().toBuffer());
    expect(
      maxAbsDiff(
        data,
        bgrImage((p) => [rgba[p * 4 + 2]!, rgba[p * 4 + 1]!, rgba[p * 4]!]),
      ),
    ).toBe(0);
  });

  it('expands palette entries to their colours', async () => {
    const colours = [
      [250, 10, 20],
      [0, 128, 255],
      [33, 66, 99],
      [255, 255, 0],
    ];
    const rgb = new Uint8Array(448 * 448 * 3);
    for (let p = 0; p < 448 * 448; p++) rgb.set(colours[(p * 7) % 4]!, p * 3);
    const png = await rawImage(rgb, 448, 448, 3).png({ palette: true, colours: 4, dither: 0 }).toBuffer();
    expect((await sharp(png).metadata()).isPalette).toBe(true);
    const { data } = await prepareImage(png);
    expect(
      maxAbsDiff(
        data,
        bgrImage((p) => [...colours[(p * 7) % 4]!].reverse()),
      ),
    ).toBe(0);
  });

  it('keeps the high byte of 16-bit samples (libpng strip_16), not a rounded v / 257', async () => {
    // 0x80FF / 257 rounds to 129, its high byte is 128; 0x00FF rounds to 1, high byte 0.
    const samples = [0x80ff, 0x00ff, 0xfe80, 0x1234, 0xffff, 0x0100];
    const sixteen = new Uint16Array(448 * 448 * 3).map((_, i) => samples[i % samples.length]!);
    const greySixteen = new Uint16Array(448 * 448).map((_, i) => samples[i % samples.length]!);
    const rgbPng = await sharp(sixteen, { raw: { width: 448, height: 448, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    const greyPng = await sharp(greySixteen, { raw: { width: 448, height: 448, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    expect((await sharp(greyPng).metadata()).space).toBe('grey16');
    const rgb = (await prepareImage(rgbPng)).data;
    expect(pixelsOf(rgb, 2)).toEqual([
      [0xfe, 0x00, 0x80],
      [0x01, 0xff, 0x12],
    ]);
    expect(pixelsOf((await prepareImage(greyPng)).data, 3)).toEqual([
      [0x80, 0x80, 0x80],
      [0x00, 0x00, 0x00],
      [0xfe, 0xfe, 0xfe],
    ]);
  });

  it('ignores an embedded colour profile (OpenCV does no colour management)', async () => {
    const rgb = testPattern(448, 448, 3, 12);
    const withProfile = await rawImage(rgb, 448, 448, 3).png().withIccProfile('p3').toBuffer();
    expect(hasChunk(withProfile, 'iCCP')).toBe(true);
    const stored = await sharp(withoutChunk(withProfile, 'iCCP')).raw().toBuffer();
    const managed = await sharp(withProfile).raw().toBuffer();
    expect(maxAbsDiff(stored, managed)).toBeGreaterThan(10); // the profile matters
    const { data } = await prepareImage(withProfile);
    expect(maxAbsDiff(data, oracle.rgbToBgr(stored, 448, 448))).toBe(0);
  });

  it('converts CMYK with OpenCV’s formula on libjpeg’s (Adobe-inverted) samples', async () => {
    const jpeg = await pattern(448, 448, 3, 13).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(jpeg).metadata()).space).toBe('cmyk');
    // libvips undoes the Adobe inversion; libjpeg (and so OpenCV) sees the inverted samples.
    const ink = await sharp(jpeg, { ignoreIcc: true })
      .pipelineColourspace('cmyk')
      .toColourspace('cmyk')
      .raw()
      .toBuffer();
    const { data } = await prepareImage(jpeg);
    for (const p of [0, 1, 1000, 448 * 448 - 1]) {
      const [c, m, y, k] = [0, 1, 2, 3].map((i) => 255 - ink[p * 4 + i]!) as [number, number, number, number];
      const bgr = [y, m, c].map((v) => k - (((255 - v) * k) >> 8));
      expect([...data.subarray(p * 3, p * 3 + 3)]).toEqual(bgr);
    }
  });
});

describe('prepareImage inputs and errors', () => {
  it('passes raw BGR bytes through untouched', async () => {
    const raw = testPattern(448, 448, 3);
    const prepared = await prepareImage(raw, { format: RAW });
    expect(prepared.data).toBe(raw);
    expect(prepared).toMatchObject({ width: 448, height: 448, format: RAW });
    expect((await rejection(prepareImage(raw.subarray(1), { format: RAW }))).code).toBe('INVALID_INPUT');
  });

  it('refuses empty, unknown, damaged and zero-sized input', async () => {
    const png = await pattern(64, 64, 3).png().toBuffer();
    expect((await rejection(prepareImage(new Uint8Array(0)))).code).toBe('EMPTY_INPUT');
    expect((await rejection(prepareImage(Buffer.from('not an image at all')))).code).toBe(
      'UNSUPPORTED_FORMAT',
    );
    expect((await rejection(prepareImage(truncatedAfterHeader(png)))).code).toBe('DECODE_FAILED');
    expect((await rejection(prepareImage(withClaimedSize(png, 0, 64)))).code).toBe('DECODE_FAILED');
    const bmp = Buffer.alloc(58);
    bmp.write('BM');
    bmp.writeUInt32LE(40, 14);
    expect((await rejection(prepareImage(bmp))).code).toBe('DECODE_FAILED');
  });

  it('refuses an image over maxPixels from its header alone (decompression bomb)', async () => {
    const png = await pattern(64, 64, 3).png().toBuffer();
    // Claims 100,000 x 100,000 but holds the pixel data of a 64x64 image: decoding would fail.
    const bomb = withClaimedSize(png, 100_000, 100_000);
    const error = await rejection(prepareImage(bomb));
    expect(error.code).toBe('IMAGE_TOO_MANY_PIXELS');
    expect(error.message).toContain('100000x100000');
    expect((await rejection(prepareImage(png, { maxPixels: 64 * 64 - 1 }))).code).toBe(
      'IMAGE_TOO_MANY_PIXELS',
    );
    expect((await prepareImage(png, { maxPixels: 64 * 64 })).width).toBe(64);
  });

  it('rejects with CANCELLED when aborted', async () => {
    const png = await pattern(64, 64, 3).png().toBuffer();
    const error = await rejection(prepareImage(png, { signal: AbortSignal.abort() }));
    expect(error.code).toBe('CANCELLED');
  });

  it('validates its arguments when called', () => {
    expect(() => prepareImage('x' as never)).toThrow(TypeError);
    expect(() => prepareImage(new Uint8Array(1), { mode: 'quick' as never })).toThrow(RangeError);
    expect(() => prepareImage(new Uint8Array(1), { maxPixels: 0 })).toThrow(RangeError);
    expect(() => prepareImage(new Uint8Array(1), { maxPixels: 1.5 })).toThrow(TypeError);
    expect(() => prepareImage(new Uint8Array(1), { failOn: 'never' as never })).toThrow(RangeError);
  });
});

describe("prepareImage mode 'fast'", () => {
  it('decodes large JPEGs at a reduced scale: close to exact, not identical; other formats exact', async () => {
    // A smooth, photo-like 2400x1800 picture: a small pattern enlarged.
    const small = await pattern(600, 450, 3, 14).png().toBuffer();
    const jpeg = await sharp(small).resize(2400, 1800).jpeg({ quality: 90 }).toBuffer();
    const [exact, fast] = await Promise.all([prepareImage(jpeg), prepareImage(jpeg, { mode: 'fast' })]);
    expect([fast.width, fast.height]).toEqual([2400, 1800]);
    let total = 0;
    for (let i = 0; i < exact.data.length; i++) total += Math.abs(exact.data[i]! - fast.data[i]!);
    const mean = total / exact.data.length;
    expect(mean).toBeGreaterThan(0);
    expect(mean).toBeLessThan(8);
    const png = await pattern(1000, 900, 3).png().toBuffer();
    expect((await prepareImage(png, { mode: 'fast' })).data).toEqual((await prepareImage(png)).data);
  });
});
