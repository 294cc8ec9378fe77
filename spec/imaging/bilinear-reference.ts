/**
 * Test-only references for `resizeBilinear`: the packed 3-channel layout, the library's TypeScript
 * path with the WebAssembly kernels switched off (what runs where WebAssembly SIMD is missing), and
 * a plain re-statement of OpenCV's INTER_LINEAR with either vertical arithmetic, written for
 * clarity rather than speed, so tests can show the oracle tells the two arithmetics apart.
 */
import { vi } from 'vitest';
import type { PixelLayout, resizeBilinear } from '../../src/imaging/bilinear.js';

/** Packed 3-channel bytes, channels in the source order. */
export const PACKED_3: PixelLayout = { pixelStride: 3, channelOffsets: [0, 1, 2] };

type Resize = typeof resizeBilinear;

/**
 * `resizeBilinear` from a fresh copy of the module whose WebAssembly kernels are unavailable, so the
 * separable pass runs the TypeScript row steps.
 */
export async function typescriptResize(): Promise<Resize> {
  vi.resetModules();
  vi.doMock('../../src/imaging/bilinear-wasm.js', () => ({
    bilinearWasmAvailable: () => false,
    wasmRows: () => undefined,
  }));
  try {
    const { resizeBilinear } = await import('../../src/imaging/bilinear.js');
    const wasm = await import('../../src/imaging/bilinear-wasm.js');
    if (wasm.bilinearWasmAvailable()) throw new Error('the WebAssembly kernels were not switched off');
    return resizeBilinear;
  } finally {
    vi.doUnmock('../../src/imaging/bilinear-wasm.js');
    vi.resetModules();
  }
}

/**
 * How the vertical pass turns two horizontally interpolated int rows and their weights into a byte:
 * `'vector'` is what OpenCV's 8-bit path computes (SIMD `VResizeLinearVec_32s8u` and its scalar
 * specialisation alike); `'fixed22'` is the generic `FixedPtCast<int, uchar, 22>` rounding, which
 * the 8-bit path does not use.
 */
export type VerticalArithmetic = 'vector' | 'fixed22';

const COEF = 2048;

const roundHalfEven = (v: number): number => {
  const f = Math.floor(v);
  return v - f > 0.5 || (v - f === 0.5 && f % 2 !== 0) ? f + 1 : f;
};

/** OpenCV's per-axis source index and fixed-point weights, float arithmetic via Math.fround. */
function axis(srcSize: number, dstSize: number, clampLeft: boolean): { s: number; w0: number; w1: number }[] {
  const scale = 1 / (dstSize / srcSize);
  const out: { s: number; w0: number; w1: number }[] = [];
  let edge = false;
  for (let d = 0; d < dstSize; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (clampLeft && s < 0) [s, f] = [0, 0];
    if (clampLeft && (edge || s + 1 >= srcSize)) {
      edge = true; // from here on the edge pixel alone
      out.push({ s: Math.min(s, srcSize - 1), w0: COEF, w1: 0 });
      continue;
    }
    out.push({ s, w0: roundHalfEven(Math.fround(1 - f) * COEF), w1: roundHalfEven(f * COEF) });
  }
  return out;
}

/** OpenCV INTER_LINEAR of packed 3-channel 8-bit bytes, with the given vertical arithmetic. */
export function referenceResize(
  src: Uint8Array,
  width: number,
  height: number,
  dstWidth: number,
  dstHeight: number,
  vertical: VerticalArithmetic,
): Uint8Array {
  const out = new Uint8Array(dstWidth * dstHeight * 3);
  const at = (x: number, y: number, c: number): number => src[(y * width + x) * 3 + c]!;
  if (width === dstWidth && height === dstHeight) return src.slice(0, out.length);
  if (width === dstWidth * 2 && height === dstHeight * 2) {
    for (let y = 0; y < dstHeight; y++)
      for (let x = 0; x < dstWidth; x++)
        for (let c = 0; c < 3; c++) {
          const sum = at(2 * x, 2 * y, c) + at(2 * x + 1, 2 * y, c) + at(2 * x, 2 * y + 1, c);
          out[(y * dstWidth + x) * 3 + c] = (sum + at(2 * x + 1, 2 * y + 1, c) + 2) >> 2;
        }
    return out;
  }
  const xs = axis(width, dstWidth, true);
  const ys = axis(height, dstHeight, false);
  const clampY = (y: number): number => Math.min(Math.max(y, 0), height - 1);
  const row = (y: number, x: number, c: number): number => {
    const { s, w0, w1 } = xs[x]!;
    return at(s, y, c) * w0 + (w1 === 0 ? 0 : at(s + 1, y, c) * w1);
  };
  for (let dy = 0; dy < dstHeight; dy++) {
    const { s, w0: b0, w1: b1 } = ys[dy]!;
    for (let dx = 0; dx < dstWidth; dx++)
      for (let c = 0; c < 3; c++) {
        const s0 = row(clampY(s), dx, c);
        const s1 = row(clampY(s + 1), dx, c);
        out[(dy * dstWidth + dx) * 3 + c] =
          vertical === 'vector'
            ? (((b0 * (s0 >> 4)) >> 16) + ((b1 * (s1 >> 4)) >> 16) + 2) >> 2
            : (s0 * b0 + s1 * b1 + (1 << 21)) >> 22;
      }
  }
  return out;
}
