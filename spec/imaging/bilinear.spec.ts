import { beforeAll, describe, expect, it } from 'vitest';
import { resizeBilinear, roundHalfEven, type PixelLayout } from '../../src/imaging/bilinear.js';
import { PACKED_3, referenceResize } from './bilinear-reference.js';
import { loadOracle, maxAbsDiff, testPattern, type Oracle } from './opencv-oracle.js';

let oracle: Oracle;
beforeAll(async () => {
  oracle = await loadOracle();
});

/** [source width, source height, target width, target height] */
const CASES: readonly (readonly [number, number, number, number])[] = [
  [1, 1, 448, 448],
  [2, 1, 448, 448],
  [3, 5, 448, 448],
  [447, 449, 448, 448],
  [449, 447, 448, 448],
  [896, 896, 448, 448], // exact 2x: INTER_AREA's fast path
  [448, 448, 448, 448], // same size: copy
  [448, 900, 448, 448], // one axis unchanged
  [449, 8000, 448, 448],
  [1000, 700, 448, 448],
  [4352, 2448, 448, 448],
  [100, 60, 448, 448], // upscale
  [300, 500, 448, 448], // up in one axis, down in the other
  [640, 480, 320, 240], // 2x to another size
  [640, 480, 100, 37],
];

describe('resizeBilinear against OpenCV', () => {
  it.each(CASES)(
    '%ix%i -> %ix%i is bit-exact with the vector vertical pass (the default)',
    (w, h, dw, dh) => {
      const src = testPattern(w, h, 3, w * 31 + h);
      const expected = oracle.resize(src, w, h, dw, dh);
      expect(maxAbsDiff(resizeBilinear(src, w, h, PACKED_3, dw, dh), expected)).toBe(0);
      expect(maxAbsDiff(referenceResize(src, w, h, dw, dh, 'vector'), expected)).toBe(0);
    },
  );

  it('shows the oracle runs the vector arithmetic: FixedPtCast<int, uchar, 22> is off by one on many bytes', () => {
    const [w, h] = [1000, 700];
    const src = testPattern(w, h, 3, 7);
    const expected = oracle.resize(src, w, h, 448, 448);
    const fixed22 = referenceResize(src, w, h, 448, 448, 'fixed22');
    expect(maxAbsDiff(fixed22, expected)).toBe(1);
    const differing = fixed22.filter((value, i) => value !== expected[i]).length;
    expect(differing).toBeGreaterThan(fixed22.length / 10);
  });

  it('treats 2x and same-size specially, where both vertical arithmetics agree', () => {
    for (const [w, h] of [
      [896, 896],
      [448, 448],
    ] as const) {
      const src = testPattern(w, h, 3, 3);
      const vector = resizeBilinear(src, w, h, PACKED_3, 448, 448);
      const fixed22 = referenceResize(src, w, h, 448, 448, 'fixed22');
      // Byte for byte, without a deep comparison of 602,112 elements.
      expect(Buffer.from(fixed22).equals(Buffer.from(vector))).toBe(true);
      expect(fixed22.length).toBe(448 * 448 * 3);
    }
    // The 2x path rounds (a + b + c + d + 2) >> 2: 0+0+1+1 gives 1, not 0.
    const block = new Uint8Array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect([...resizeBilinear(block, 2, 2, PACKED_3, 1, 1)]).toEqual([1, 1, 1]);
  });

  it('reads channels through a layout: RGBA to BGR equals converting first, alpha ignored', () => {
    const [w, h] = [300, 200];
    const rgba = testPattern(w, h, 4, 11);
    const bgr = new Uint8Array(w * h * 3);
    for (let p = 0; p < w * h; p++) {
      bgr[p * 3] = rgba[p * 4 + 2]!;
      bgr[p * 3 + 1] = rgba[p * 4 + 1]!;
      bgr[p * 3 + 2] = rgba[p * 4]!;
    }
    const layout: PixelLayout = { pixelStride: 4, channelOffsets: [2, 1, 0] };
    expect(resizeBilinear(rgba, w, h, layout, 448, 448)).toEqual(oracle.resize(bgr, w, h, 448, 448));
  });

  it('reads the high byte of little-endian 16-bit samples and repeats a grey channel', () => {
    const [w, h] = [50, 40];
    const grey = testPattern(w, h, 1, 5);
    const sixteen = new Uint8Array(w * h * 2);
    grey.forEach((value, i) => {
      sixteen[i * 2] = 0xa5; // low byte: must not leak into the result
      sixteen[i * 2 + 1] = value;
    });
    const expanded = new Uint8Array(w * h * 3).map((_, i) => grey[Math.floor(i / 3)]!);
    const layout: PixelLayout = { pixelStride: 2, channelOffsets: [1, 1, 1] };
    expect(resizeBilinear(sixteen, w, h, layout, 448, 448)).toEqual(oracle.resize(expanded, w, h, 448, 448));
  });

  it('honours a row stride larger than the row', () => {
    const [w, h] = [20, 10];
    const packed = testPattern(w, h, 3, 9);
    const padded = new Uint8Array((w * 3 + 5) * h);
    for (let y = 0; y < h; y++) padded.set(packed.subarray(y * w * 3, (y + 1) * w * 3), y * (w * 3 + 5));
    const layout: PixelLayout = { ...PACKED_3, rowStride: w * 3 + 5 };
    expect(resizeBilinear(padded, w, h, layout, 448, 448)).toEqual(
      resizeBilinear(packed, w, h, PACKED_3, 448, 448),
    );
  });

  it('writes into a given buffer and rejects bad sizes', () => {
    const out = new Uint8Array(448 * 448 * 3);
    expect(resizeBilinear(new Uint8Array([1, 2, 3]), 1, 1, PACKED_3, 448, 448, { out })).toBe(out);
    expect(out[out.length - 1]).toBe(3);
    expect(() => resizeBilinear(new Uint8Array(3), 0, 1, PACKED_3, 448, 448)).toThrow(RangeError);
    expect(() => resizeBilinear(new Uint8Array(3), 2, 1, PACKED_3, 448, 448)).toThrow(RangeError);
    expect(() =>
      resizeBilinear(new Uint8Array(3), 1, 1, PACKED_3, 448, 448, { out: new Uint8Array(9) }),
    ).toThrow(RangeError);
  });
});

describe('roundHalfEven', () => {
  it('rounds like cvRound: ties to even', () => {
    expect([0.5, 1.5, 2.5, -0.5, 1023.5, 0.49, 0.51].map(roundHalfEven)).toEqual([0, 2, 2, 0, 1024, 0, 1]);
  });
});
