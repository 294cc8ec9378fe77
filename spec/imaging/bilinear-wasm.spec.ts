import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { resizeBilinear, type PixelLayout } from '../../src/imaging/bilinear.js';
import { bilinearWasmAvailable } from '../../src/imaging/bilinear-wasm.js';
import { PACKED_3, typescriptResize } from './bilinear-reference.js';

/** The TypeScript path, which runs where WebAssembly SIMD is missing: the reference of the kernels. */
let resizeBilinearReference: Awaited<ReturnType<typeof typescriptResize>>;
beforeAll(async () => {
  resizeBilinearReference = await typescriptResize();
});

/** The layouts the decoders hand to the resize: [pixelStride, channelOffsets]. */
const LAYOUTS: readonly (readonly [number, readonly [number, number, number]])[] = [
  [3, [0, 1, 2]], // packed BGR
  [3, [2, 1, 0]], // packed RGB
  [4, [2, 1, 0]], // RGBA
  [1, [0, 0, 0]], // grey
  [2, [0, 0, 0]], // grey + alpha
  [2, [1, 1, 1]], // 16-bit grey, high byte
  [4, [1, 1, 1]], // 16-bit grey + alpha
  [6, [5, 3, 1]], // 16-bit RGB
  [8, [5, 3, 1]], // 16-bit RGBA
  [8, [7, 5, 3]], // 16-bit BGRA style
];

/** Deterministic bytes (xorshift32), so a counterexample replays from its seed. */
function noise(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let s = seed | 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    bytes[i] = s;
  }
  return bytes;
}

/** Index of the first byte where `a` and `b` differ (-1 when equal): cheap on megabytes. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)) return -1;
  const index = a.findIndex((value, i) => value !== b[i]);
  return index < 0 ? Math.min(a.length, b.length) : index;
}

interface Case {
  readonly src: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly layout: PixelLayout;
}

/**
 * A source image in the given layout, its rows `pad` bytes apart beyond their length, bottom-up
 * when `bottomUp` (negative row stride, `firstRow` at the top row), the first byte used `lead`
 * bytes into the buffer, and the buffer as short as `resizeBilinear` accepts plus `tail` bytes.
 */
function makeCase(
  width: number,
  height: number,
  [pixelStride, channelOffsets]: (typeof LAYOUTS)[number],
  pad: number,
  bottomUp: boolean,
  lead: number,
  tail: number,
  seed: number,
): Case {
  const minC = Math.min(...channelOffsets);
  const reach = (width - 1) * pixelStride + Math.max(...channelOffsets);
  const stride = width * pixelStride + pad;
  const top = lead - minC + (bottomUp ? (height - 1) * stride : 0);
  const lowest = lead - minC + (height - 1) * stride;
  const layout: PixelLayout = {
    pixelStride,
    channelOffsets: [...channelOffsets],
    rowStride: bottomUp ? -stride : stride,
    firstRow: top,
  };
  return { src: noise(lowest + reach + 1 + tail, seed), width, height, layout };
}

const size = fc.integer({ min: 1, max: 900 });
const dstSize = fc.oneof(fc.constant(448), fc.integer({ min: 1, max: 900 }));
const caseArb = fc
  .record({
    width: size,
    height: size,
    layout: fc.constantFrom(...LAYOUTS),
    pad: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 })),
    bottomUp: fc.boolean(),
    lead: fc.integer({ min: 0, max: 5 }),
    tail: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 })),
    seed: fc.integer(),
  })
  .map((c) => makeCase(c.width, c.height, c.layout, c.pad, c.bottomUp, c.lead, c.tail, c.seed));

describe('resizeBilinear on WebAssembly', () => {
  it('has its WebAssembly kernels available here', () => {
    expect(bilinearWasmAvailable()).toBe(true);
  });

  it('gives the same bytes as the TypeScript reference for any size, layout and row order', () => {
    fc.assert(
      fc.property(caseArb, dstSize, dstSize, ({ src, width, height, layout }, dstWidth, dstHeight) => {
        const fast = resizeBilinear(src, width, height, layout, dstWidth, dstHeight);
        const reference = resizeBilinearReference(src, width, height, layout, dstWidth, dstHeight);
        expect(fast.length).toBe(dstWidth * dstHeight * 3);
        expect(firstDifference(fast, reference)).toBe(-1);
      }),
      { numRuns: 120 },
    );
  });

  it('handles the edges: one pixel wide or high, sources starting before their first sample', () => {
    const cases = [
      makeCase(1, 1, [3, [0, 1, 2]], 0, false, 0, 0, 1),
      makeCase(1, 700, [4, [2, 1, 0]], 0, true, 0, 0, 2),
      makeCase(900, 1, [8, [7, 5, 3]], 0, false, 0, 0, 3),
      makeCase(2, 3, [1, [0, 0, 0]], 3, true, 0, 0, 4),
      makeCase(333, 251, [6, [5, 3, 1]], 1, false, 0, 0, 5),
    ];
    // firstRow -1 with channel offsets from 1: the row's first byte lies before the buffer.
    cases.push({ ...cases[4]!, layout: { ...cases[4]!.layout, firstRow: -1 } });
    // Offsets past the pixel (into the next one); the last pixel's samples lie past the row.
    cases.push(makeCase(1, 5, [1, [5, 6, 7]], 0, true, 0, 0, 11));
    cases.push(makeCase(37, 29, [2, [3, 2, 4]], 0, false, 0, 0, 12));
    for (const { src, width, height, layout } of cases) {
      for (const [dw, dh] of [
        [448, 448],
        [1, 1],
        [1, 900],
        [900, 1],
        [width + 1, height + 1],
      ] as const) {
        const fast = resizeBilinear(src, width, height, layout, dw, dh);
        expect(firstDifference(fast, resizeBilinearReference(src, width, height, layout, dw, dh))).toBe(-1);
      }
    }
  });

  it('grows its memory for a very wide row, and a layout whose taps span 16 bytes falls back', () => {
    const wide = makeCase(100_000, 3, [8, [5, 3, 1]], 0, false, 0, 0, 6);
    const fast = resizeBilinear(wide.src, 100_000, 3, wide.layout, 448, 448);
    expect(firstDifference(fast, resizeBilinearReference(wide.src, 100_000, 3, wide.layout, 448, 448))).toBe(
      -1,
    );
    const spread: PixelLayout = { pixelStride: 12, channelOffsets: [11, 4, 0] };
    const src = noise(12 * 50 * 40, 7);
    const spreadOut = resizeBilinear(src, 50, 40, spread, 448, 448);
    expect(firstDifference(spreadOut, resizeBilinearReference(src, 50, 40, spread, 448, 448))).toBe(-1);
  });

  it('returns memory of its own and writes into `out` exactly dstWidth * dstHeight * 3 bytes', () => {
    const [w, h] = [300, 200];
    const src = noise(w * h * 3, 8);
    const first = resizeBilinear(src, w, h, PACKED_3, 448, 448);
    const copy = first.slice();
    const second = resizeBilinear(noise(w * h * 3, 10), w, h, PACKED_3, 448, 448);
    expect(firstDifference(first, copy)).toBe(-1); // not a view that the next call overwrites
    expect(firstDifference(second, first)).not.toBe(-1);

    const out = new Uint8Array(448 * 448 * 3 + 5).fill(77);
    expect(resizeBilinear(src, w, h, PACKED_3, 448, 448, { out })).toBe(out);
    expect(firstDifference(out.subarray(0, 448 * 448 * 3), first)).toBe(-1);
    expect([...out.subarray(448 * 448 * 3)]).toEqual([77, 77, 77, 77, 77]);
    expect(() => resizeBilinear(src, w, h, PACKED_3, 448, 448, { out: new Uint8Array(10) })).toThrow(
      RangeError,
    );
    expect(() => resizeBilinear(src.subarray(1), w, h, PACKED_3, 448, 448)).toThrow(RangeError);
  });
});
