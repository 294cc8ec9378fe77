/**
 * The shapes shared by the two implementations of the separable pass of `resizeBilinear` (the
 * TypeScript loops here, the WebAssembly SIMD kernels in `bilinear-wasm.ts`), and the TypeScript
 * row steps, which run where WebAssembly SIMD is missing or a layout does not fit its kernels.
 * Imports nothing, so `bilinear.ts` and `bilinear-wasm.ts` both build on it without importing each
 * other.
 */

/**
 * Where to find the three output channels in the source bytes.
 *
 * - `pixelStride`: bytes from one pixel to the next (e.g. 3 for RGB, 4 for RGBA, 8 for 16-bit RGBA).
 * - `channelOffsets`: byte offsets inside a pixel of the samples that become output channels 0, 1,
 *   2 (e.g. `[2, 1, 0]` turns RGB into BGR; `[0, 0, 0]` expands grey; for little-endian 16-bit
 *   samples point at the high byte: `[5, 3, 1]` for 16-bit RGB to BGR).
 * - `rowStride`: bytes from one row to the next; defaults to `width * pixelStride`. May be
 *   negative for bottom-up storage (BMP), with `firstRow` pointing at the top row.
 * - `firstRow`: byte offset of the top row; default 0.
 */
export interface PixelLayout {
  readonly pixelStride: number;
  readonly channelOffsets: readonly [number, number, number];
  readonly rowStride?: number;
  readonly firstRow?: number;
}

/**
 * The row steps of the separable pass, on two int row buffers numbered 0 and 1 (one destination
 * row long, 3 ints a pixel).
 */
export interface RowKernel {
  /** Source row `y` interpolated horizontally into buffer `into`. */
  hresize(y: number, into: 0 | 1): void;
  /** Buffer `from` copied to buffer `to`. */
  copy(from: 0 | 1, to: 0 | 1): void;
  /** Destination row `dy` from buffer `first` (weight `b0`) and the other one (weight `b1`). */
  vresize(first: 0 | 1, b0: number, b1: number, dy: number): void;
}

/** Per destination pixel, the byte offsets of its two taps in a row, their weights; the channels. */
export interface Taps {
  readonly tap0: Int32Array;
  readonly tap1: Int32Array;
  readonly a0: Int32Array;
  readonly a1: Int32Array;
  readonly c0: number;
  readonly c1: number;
  readonly c2: number;
}

/** The row steps in TypeScript, for where WebAssembly cannot be used. */
export function typescriptRows(
  src: Uint8Array,
  rowStride: number,
  first: number,
  taps: Taps,
  out: Uint8Array,
): RowKernel {
  const rowLength = taps.tap0.length * 3;
  const rows = [new Int32Array(rowLength), new Int32Array(rowLength)] as const;
  return {
    hresize: (y, into) => hresize(src, first + y * rowStride, taps, rows[into]),
    copy: (from, to) => rows[to].set(rows[from]),
    vresize: (a, b0, b1, dy) => vresize(rows[a], rows[a === 0 ? 1 : 0], b0, b1, out, dy * rowLength),
  };
}

/** One source row, horizontally interpolated into ints (OpenCV's `HResizeLinear`). */
function hresize(src: Uint8Array, base: number, taps: Taps, into: Int32Array): void {
  const { tap0, tap1, a0, a1, c0, c1, c2 } = taps;
  const n = tap0.length;
  for (let dx = 0, j = 0; dx < n; dx++, j += 3) {
    const p = base + tap0[dx]!;
    const q = base + tap1[dx]!;
    const w0 = a0[dx]!;
    const w1 = a1[dx]!;
    into[j] = src[p + c0]! * w0 + src[q + c0]! * w1;
    into[j + 1] = src[p + c1]! * w0 + src[q + c1]! * w1;
    into[j + 2] = src[p + c2]! * w0 + src[q + c2]! * w1;
  }
}

/** One destination row from two int rows, in the vector arithmetic (see `bilinear.ts`). */
function vresize(r0: Int32Array, r1: Int32Array, b0: number, b1: number, out: Uint8Array, o: number): void {
  const n = r0.length;
  for (let j = 0; j < n; j++) {
    // Never outside 0..255 for weights in 0..2048: the byte store needs no clamp.
    out[o + j] = (((b0 * (r0[j]! >> 4)) >> 16) + ((b1 * (r1[j]! >> 4)) >> 16) + 2) >> 2;
  }
}
