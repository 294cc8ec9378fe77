import { beforeAll, describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { prepareImage } from '../../src/imaging/prepare.js';
import { makeBmp, makeNetpbm } from '../fixtures/imaging/bitmaps.js';
import { loadOracle, maxAbsDiff, testPattern, type Oracle } from './opencv-oracle.js';

let oracle: Oracle;
beforeAll(async () => {
  oracle = await loadOracle();
});

/** A packed B, G, R image of `width` x `height` from a per-pixel colour. */
function bgr(width: number, height: number, colour: (x: number, y: number) => readonly number[]): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set(colour(x, y), (y * width + x) * 3);
  return out;
}

/** What the reference gives for an image decoded to `expected` (B, G, R) pixels. */
const reference = (expected: Uint8Array, width: number, height: number): Uint8Array =>
  oracle.resize(expected, width, height, 448, 448);

async function expectDecodedAs(file: Uint8Array, expected: Uint8Array, width: number, height: number) {
  const prepared = await prepareImage(file);
  expect([prepared.width, prepared.height]).toEqual([width, height]);
  expect(maxAbsDiff(prepared.data, reference(expected, width, height))).toBe(0);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AthenaError);
  return (error as AthenaError).code;
}

describe('BMP as OpenCV reads it', () => {
  const noise = testPattern(449, 451, 4, 21);
  const colour = (x: number, y: number) => [...noise.subarray((y * 449 + x) * 4, (y * 449 + x) * 4 + 3)];

  it('24-bit, bottom-up and top-down, odd widths padded to 4 bytes', async () => {
    for (const [w, h] of [
      [447, 449],
      [448, 448],
      [3, 2],
    ] as const) {
      const expected = bgr(w, h, colour);
      await expectDecodedAs(makeBmp({ width: w, height: h, bpp: 24, pixel: colour }), expected, w, h);
      await expectDecodedAs(
        makeBmp({ width: w, height: h, bpp: 24, pixel: colour, topDown: true }),
        expected,
        w,
        h,
      );
    }
  });

  it('24-bit bottom-up through the 2x area path', async () => {
    const pattern = (x: number, y: number) => [(x * 3 + y) & 255, (x ^ y) & 255, (x * y) & 255];
    const bmp = makeBmp({ width: 896, height: 896, bpp: 24, pixel: pattern });
    await expectDecodedAs(bmp, bgr(896, 896, pattern), 896, 896);
  });

  it('32-bit drops alpha, with or without bit-field masks', async () => {
    const withAlpha = (x: number, y: number) => [...colour(x, y), (x * 7 + y) & 255];
    const expected = bgr(300, 200, colour);
    await expectDecodedAs(
      makeBmp({ width: 300, height: 200, bpp: 32, pixel: withAlpha }),
      expected,
      300,
      200,
    );
    const masks = [0xff0000, 0xff00, 0xff] as const;
    await expectDecodedAs(
      makeBmp({ width: 300, height: 200, bpp: 32, pixel: withAlpha, masks }),
      expected,
      300,
      200,
    );
  });

  it('1-, 4- and 8-bit through the palette; indices past it are black', async () => {
    const palette = [
      [10, 20, 30],
      [200, 100, 0],
      [0, 255, 128],
      [77, 77, 77],
    ] as const;
    const index = (x: number, y: number) => (x + 2 * y) % 5; // 4 is past the 4-entry palette
    const expected = bgr(61, 17, (x, y) => palette[index(x, y)] ?? [0, 0, 0]);
    for (const bpp of [4, 8]) {
      await expectDecodedAs(makeBmp({ width: 61, height: 17, bpp, palette, pixel: index }), expected, 61, 17);
    }
    const bit = (x: number, y: number) => (x * y) & 1;
    const mono = bgr(61, 17, (x, y) => palette[bit(x, y)]!);
    await expectDecodedAs(
      makeBmp({ width: 61, height: 17, bpp: 1, palette: palette.slice(0, 2), pixel: bit }),
      mono,
      61,
      17,
    );
  });

  it('16-bit 5-5-5 and 5-6-5, fields moved to the top of the byte without bit replication', async () => {
    const word = (x: number, y: number) => (x * 2731 + y * 40503) & 0xffff;
    const b555 = bgr(40, 30, (x, y) => {
      const v = word(x, y);
      return [(v << 3) & 0xf8, (v >> 2) & 0xf8, (v >> 7) & 0xf8];
    });
    const b565 = bgr(40, 30, (x, y) => {
      const v = word(x, y);
      return [(v << 3) & 0xf8, (v >> 3) & 0xfc, (v >> 8) & 0xf8];
    });
    await expectDecodedAs(makeBmp({ width: 40, height: 30, bpp: 16, pixel: word }), b555, 40, 30);
    const m555 = [0x7c00, 0x3e0, 0x1f] as const;
    const m565 = [0xf800, 0x7e0, 0x1f] as const;
    await expectDecodedAs(
      makeBmp({ width: 40, height: 30, bpp: 16, pixel: word, masks: m555 }),
      b555,
      40,
      30,
    );
    await expectDecodedAs(
      makeBmp({ width: 40, height: 30, bpp: 16, pixel: word, masks: m565 }),
      b565,
      40,
      30,
    );
    // Any other masks: OpenCV refuses the file.
    const odd = makeBmp({ width: 40, height: 30, bpp: 16, pixel: word, masks: [0xf00, 0xf0, 0xf] });
    expect(await codeOf(prepareImage(odd))).toBe('DECODE_FAILED');
  });

  it('refuses RLE, truncated data and unknown headers; checks maxPixels on the header', async () => {
    const good = makeBmp({ width: 64, height: 64, bpp: 24, pixel: colour });
    const rle = makeBmp({
      width: 64,
      height: 64,
      bpp: 8,
      palette: [[0, 0, 0]],
      pixel: () => 0,
      compression: 1,
    });
    expect(await codeOf(prepareImage(rle))).toBe('DECODE_FAILED');
    expect(await codeOf(prepareImage(good.subarray(0, good.length - 10)))).toBe('DECODE_FAILED');
    const weird = Buffer.from(good);
    weird.writeUInt32LE(16, 14); // between the OS/2 header (12) and the smallest OpenCV reads (36)
    expect(await codeOf(prepareImage(weird))).toBe('DECODE_FAILED');
    expect(await codeOf(prepareImage(good, { maxPixels: 64 * 63 }))).toBe('IMAGE_TOO_MANY_PIXELS');
    const bomb = Buffer.from(good);
    bomb.writeInt32LE(200_000, 18);
    bomb.writeInt32LE(200_000, 22);
    expect(await codeOf(prepareImage(bomb))).toBe('IMAGE_TOO_MANY_PIXELS');
  });
});

describe('PBM, PGM and PPM as OpenCV reads them', () => {
  const rgb = testPattern(123, 45, 3, 22);
  const fromRgb = (x: number, y: number) =>
    [...rgb.subarray((y * 123 + x) * 3, (y * 123 + x) * 3 + 3)].reverse();

  it('binary 8-bit PPM and PGM, samples taken as they are', async () => {
    await expectDecodedAs(makeNetpbm('P6\n123 45\n255\n', rgb), bgr(123, 45, fromRgb), 123, 45);
    const grey = rgb.subarray(0, 123 * 45);
    const expected = bgr(123, 45, (x, y) => Array(3).fill(grey[y * 123 + x]!));
    await expectDecodedAs(makeNetpbm('P5 123\t45 # comment 99\n255\r', grey), expected, 123, 45);
    // maxval 15: binary samples are not rescaled.
    const small = grey.map((v) => v & 15);
    const unscaled = bgr(123, 45, (x, y) => Array(3).fill(small[y * 123 + x]!));
    await expectDecodedAs(makeNetpbm('P5\n123 45\n15\n', small), unscaled, 123, 45);
  });

  it('binary 16-bit keeps the high byte of big-endian samples', async () => {
    const samples = new Uint8Array(20 * 10 * 6).map((_, i) => (i * 37 + 11) & 255);
    const expected = bgr(20, 10, (x, y) => [4, 2, 0].map((o) => samples[(y * 20 + x) * 6 + o]!));
    await expectDecodedAs(makeNetpbm('P6\n20 10\n65535\n', samples), expected, 20, 10);
  });

  it('ASCII files: 8-bit scaled by v * 255 / maxval, 16-bit reduced to the high byte, clamped to maxval', async () => {
    const values = [0, 1, 7, 15, 20, 9];
    const p2 = Buffer.from(`P2\n# a comment\n3 2\n15\n${values.join(' ')}\n`);
    const scaled = values.map((v) => Math.floor((Math.min(v, 15) * 255) / 15));
    await expectDecodedAs(
      p2,
      bgr(3, 2, (x, y) => Array(3).fill(scaled[y * 3 + x]!)),
      3,
      2,
    );
    const p3 = Buffer.from('P3 2 1 65535\n 4660 65535 256  300 1000 70000\n');
    await expectDecodedAs(
      p3,
      bgr(2, 1, (x) => (x === 0 ? [1, 255, 18] : [255, 3, 1])),
      2,
      1,
    );
  });

  it('PBM: 1 is black, in ASCII (digits need no separator) and packed bits', async () => {
    const p1 = Buffer.from('P1\n5 2\n10110\n0 1 0 0 1\n');
    const bits = [1, 0, 1, 1, 0, 0, 1, 0, 0, 1];
    const expected = bgr(5, 2, (x, y) => Array(3).fill(bits[y * 5 + x] ? 0 : 255));
    await expectDecodedAs(p1, expected, 5, 2);
    const p4 = makeNetpbm('P4\n5 2\n', [0b10110000, 0b01001000]);
    await expectDecodedAs(p4, expected, 5, 2);
  });

  it('refuses truncated files and those OpenCV would not read here (PAM)', async () => {
    expect(await codeOf(prepareImage(makeNetpbm('P6\n123 45\n255\n', rgb.subarray(1))))).toBe(
      'DECODE_FAILED',
    );
    expect(await codeOf(prepareImage(Buffer.from('P2\n3 2\n15\n1 2 3')))).toBe('DECODE_FAILED');
    expect(
      await codeOf(prepareImage(Buffer.from('P7\nWIDTH 1\nHEIGHT 1\nDEPTH 3\nMAXVAL 255\nENDHDR\nabc'))),
    ).toBe('DECODE_FAILED');
    expect(await codeOf(prepareImage(makeNetpbm('P6\n100000 100000\n255\n', rgb)))).toBe(
      'IMAGE_TOO_MANY_PIXELS',
    );
  });
});
