/**
 * OpenCV's `cv::resize(src, dst, dsize, 0, 0, INTER_LINEAR)` for 8-bit images, bit for bit (typed
 * arrays, no Node imports).
 *
 * Where it runs: the separable pass with the default `'vector'` arithmetic, the one every photo
 * takes, runs its two inner loops as WebAssembly SIMD (`wasm/bilinear.ts`, embedded by
 * `npm run wasm` in `src/generated/wasm/`, driven by `bilinear-wasm.ts`), five to nine times faster
 * than the TypeScript loops of `bilinear-rows.ts`, which run instead where WebAssembly SIMD is
 * missing and for a layout whose two taps do not fit 16 bytes. The copy and 2x paths are
 * TypeScript. Everything runs synchronously on the calling thread.
 *
 * What OpenCV does (modules/imgproc/src/resize.cpp, 4.x), and what is reproduced here:
 *
 * - `dsize == ssize`: a plain copy.
 * - Exactly 2x smaller in both axes: INTER_LINEAR is switched to INTER_AREA's fast path, each
 *   output value being `(a + b + c + d + 2) >> 2` of its 2x2 source block.
 * - Otherwise the separable fixed-point path (`resizeGeneric_` with `HResizeLinear` and
 *   `VResizeLinear`): per axis `f = (float)((d + 0.5) * scale - 0.5)`, `s = floor(f)`, `f -= s`,
 *   where `scale = 1 / (dsize / ssize)` in double. Horizontally a source index left of the image is
 *   clamped to 0 with `f = 0`, and from the first `s >= width - 1` on the edge pixel is used alone;
 *   vertically the two source rows are clamped to the image but the weights are kept. Weights are
 *   `saturate_cast<short>(w * 2048)` (`cvRound`: half to even) of the float weights `1 - f` and `f`.
 *   The horizontal pass produces int rows `S[x] * a0 + S[x + cn] * a1` (`S * 2048` at the right edge).
 * - The vertical pass turns two int rows `S0`, `S1` and the weights `b0`, `b1` into a byte as
 *   `(((b0 * (S0 >> 4)) >> 16) + ((b1 * (S1 >> 4)) >> 16) + 2) >> 2`. This is what
 *   `VResizeLinearVec_32s8u` computes in SIMD builds (SSE2/AVX2 on x86-64, NEON on ARM: the values
 *   shifted right by 4 and packed to int16, `v_mul_hi` with the weights, summed, `v_rshr_pack_u<2>`).
 *   For 8-bit images OpenCV also specialises the scalar `VResizeLinear` to compute exactly this
 *   (instead of the generic `FixedPtCast<int, uchar, 22>` rounding, which differs by 1 on many
 *   bytes), so SIMD and scalar builds agree: the WebAssembly build of OpenCV 4.5.1 used as the test
 *   oracle (`@techstark/opencv-js`, compiled without SIMD, so every byte takes the scalar loop)
 *   matches it on every byte tested. For a 448-wide, 3-channel output a row holds 1344 bytes, a
 *   multiple of every vector width, so native x86-64 OpenCV computes every output byte in the vector
 *   loop.
 *
 * The channel order may be remapped and 16-bit samples reduced to their high byte while reading the
 * source (see {@link PixelLayout}); OpenCV works per channel, so this equals converting first.
 */

import { typescriptRows, type PixelLayout, type Taps } from './bilinear-rows.js';
import { wasmRows } from './bilinear-wasm.js';

export type { PixelLayout } from './bilinear-rows.js';

export interface BilinearOptions {
  /** Where the output is written; must hold `dstWidth * dstHeight * 3` bytes. */
  readonly out?: Uint8Array;
}

const COEF_SCALE = 2048;

/**
 * Resizes `src` (`width` x `height` pixels laid out as `layout` says) to `dstWidth` x `dstHeight`,
 * 3 channels, exactly as OpenCV's INTER_LINEAR resize of the same 3-channel 8-bit image does.
 */
export function resizeBilinear(
  src: Uint8Array,
  width: number,
  height: number,
  layout: PixelLayout,
  dstWidth: number,
  dstHeight: number,
  options: BilinearOptions = {},
): Uint8Array {
  return resize(src, width, height, layout, dstWidth, dstHeight, options);
}

function resize(
  src: Uint8Array,
  width: number,
  height: number,
  layout: PixelLayout,
  dstWidth: number,
  dstHeight: number,
  options: BilinearOptions,
): Uint8Array {
  checkSizes(src, width, height, layout, dstWidth, dstHeight);
  const out = options.out ?? new Uint8Array(dstWidth * dstHeight * 3);
  if (out.length < dstWidth * dstHeight * 3) throw new RangeError('out is too small');
  if (width === dstWidth && height === dstHeight) {
    copyPixels(src, width, height, layout, out);
  } else if (width === dstWidth * 2 && height === dstHeight * 2) {
    halve(src, dstWidth, dstHeight, layout, out);
  } else {
    separable(src, width, height, layout, dstWidth, dstHeight, out);
  }
  return out;
}

function checkSizes(
  src: Uint8Array,
  width: number,
  height: number,
  layout: PixelLayout,
  dstWidth: number,
  dstHeight: number,
): void {
  for (const [name, value] of [
    ['width', width],
    ['height', height],
    ['dstWidth', dstWidth],
    ['dstHeight', dstHeight],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  }
  const rowStride = layout.rowStride ?? width * layout.pixelStride;
  const first = layout.firstRow ?? 0;
  const lastRow = first + (height - 1) * rowStride;
  const reach = (width - 1) * layout.pixelStride + Math.max(...layout.channelOffsets);
  if (
    Math.min(first, lastRow) + Math.min(...layout.channelOffsets) < 0 ||
    Math.max(first, lastRow) + reach >= src.length
  ) {
    throw new RangeError(
      `source of ${src.length} bytes is too small for ${width}x${height} pixels in this layout`,
    );
  }
}

function copyPixels(
  src: Uint8Array,
  width: number,
  height: number,
  layout: PixelLayout,
  out: Uint8Array,
): void {
  const {
    pixelStride: ps,
    channelOffsets: [c0, c1, c2],
  } = layout;
  const rowStride = layout.rowStride ?? width * ps;
  const first = layout.firstRow ?? 0;
  let o = 0;
  for (let y = 0; y < height; y++) {
    let p = first + y * rowStride;
    for (let x = 0; x < width; x++, p += ps, o += 3) {
      out[o] = src[p + c0]!;
      out[o + 1] = src[p + c1]!;
      out[o + 2] = src[p + c2]!;
    }
  }
}

/** INTER_AREA's fast 2x2 path, which OpenCV uses for an exact 2x INTER_LINEAR downscale. */
function halve(
  src: Uint8Array,
  dstWidth: number,
  dstHeight: number,
  layout: PixelLayout,
  out: Uint8Array,
): void {
  const { pixelStride: ps, channelOffsets: offsets } = layout;
  const rowStride = layout.rowStride ?? dstWidth * 2 * ps;
  const first = layout.firstRow ?? 0;
  let o = 0;
  for (let y = 0; y < dstHeight; y++) {
    const r0 = first + 2 * y * rowStride;
    const r1 = r0 + rowStride;
    for (let x = 0; x < dstWidth; x++, o += 3) {
      const p = 2 * x * ps;
      for (let c = 0; c < 3; c++) {
        const k = p + offsets[c]!;
        out[o + c] = (src[r0 + k]! + src[r0 + k + ps]! + src[r1 + k]! + src[r1 + k + ps]! + 2) >> 2;
      }
    }
  }
}

/** Source index and the two fixed-point weights for every destination index along one axis. */
interface AxisTable {
  readonly index: Int32Array;
  readonly w0: Int32Array;
  readonly w1: Int32Array;
  /** First destination index from which only the edge sample is used (horizontal pass only). */
  readonly max: number;
}

/** OpenCV's coefficient computation for one axis, `float` arithmetic emulated with Math.fround. */
function axisTable(srcSize: number, dstSize: number, horizontal: boolean): AxisTable {
  const scale = 1 / (dstSize / srcSize);
  const index = new Int32Array(dstSize);
  const w0 = new Int32Array(dstSize);
  const w1 = new Int32Array(dstSize);
  let max = dstSize;
  for (let d = 0; d < dstSize; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (horizontal) {
      if (s < 0) {
        f = 0;
        s = 0;
      }
      if (s + 1 >= srcSize) {
        max = Math.min(max, d);
        if (s >= srcSize - 1) {
          f = 0;
          s = srcSize - 1;
        }
      }
    }
    index[d] = s;
    w0[d] = roundHalfEven(Math.fround(1 - f) * COEF_SCALE);
    w1[d] = roundHalfEven(f * COEF_SCALE);
  }
  return { index, w0, w1, max };
}

/** `cvRound`: round half to even (the result always fits a short here). */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function separable(
  src: Uint8Array,
  width: number,
  height: number,
  layout: PixelLayout,
  dstWidth: number,
  dstHeight: number,
  out: Uint8Array,
): void {
  const { pixelStride: ps, channelOffsets: offsets } = layout;
  const rowStride = layout.rowStride ?? width * ps;
  const first = layout.firstRow ?? 0;
  const xt = axisTable(width, dstWidth, true);
  const yt = axisTable(height, dstHeight, false);

  // Per output pixel: byte offsets (inside a row) of the two taps and their weights.
  const tap0 = new Int32Array(dstWidth);
  const tap1 = new Int32Array(dstWidth);
  const a0 = new Int32Array(dstWidth);
  const a1 = new Int32Array(dstWidth);
  for (let dx = 0; dx < dstWidth; dx++) {
    const edge = dx >= xt.max;
    tap0[dx] = xt.index[dx]! * ps;
    tap1[dx] = edge ? tap0[dx]! : tap0[dx]! + ps;
    a0[dx] = edge ? COEF_SCALE : xt.w0[dx]!;
    a1[dx] = edge ? 0 : xt.w1[dx]!;
  }
  const taps: Taps = { tap0, tap1, a0, a1, c0: offsets[0], c1: offsets[1], c2: offsets[2] };

  const kernel =
    wasmRows(src, width, rowStride, first, layout, taps, out) ??
    typescriptRows(src, rowStride, first, taps, out);
  let rowOf0 = -1;
  let rowOf1 = -1;
  for (let dy = 0; dy < dstHeight; dy++) {
    const sy0 = yt.index[dy]!;
    const s0 = sy0 < 0 ? 0 : sy0 >= height ? height - 1 : sy0;
    const s1 = sy0 + 1 >= height ? height - 1 : sy0 + 1 < 0 ? 0 : sy0 + 1;
    // Two row buffers; a row computed for the previous output row is reused.
    const a = rowOf0 === s0 || (rowOf1 !== s0 && rowOf1 === s1) ? 0 : 1;
    const b = a === 0 ? 1 : 0;
    if ((a === 0 ? rowOf0 : rowOf1) !== s0) kernel.hresize(s0, a);
    if ((b === 0 ? rowOf0 : rowOf1) !== s1) {
      if (s1 === s0) kernel.copy(a, b);
      else kernel.hresize(s1, b);
    }
    if (a === 0) [rowOf0, rowOf1] = [s0, s1];
    else [rowOf1, rowOf0] = [s0, s1];
    kernel.vresize(a, yt.w0[dy]!, yt.w1[dy]!, dy);
  }
}
