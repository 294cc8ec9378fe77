// The two inner loops of OpenCV's separable INTER_LINEAR resize for 8-bit images (see
// src/imaging/bilinear.ts, whose TypeScript loops `hresize` and `vresizeVector` these reproduce
// bit for bit), in AssemblyScript with WebAssembly SIMD. `npm run wasm` compiles this file
// into src/generated/wasm/bilinear.ts; src/imaging/bilinear-wasm.ts lays out the memory.
//
// Every pointer is a byte offset in this module's memory. Nothing here allocates.

/** Where the caller may start laying out its buffers (past the static data, 16-byte aligned). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}

/**
 * One source row into `n` pixels of ints `S[x] * a0 + S[x + pixelStride] * a1`, three per pixel.
 *
 * - `row`: the source row's bytes, readable for the 16 bytes from every tap.
 * - `taps`: per output pixel the i32 byte offset in `row` of its first tap.
 * - `weights`: per output pixel an i16x8 `[a0, a1, a0, a1, a0, a1, 0, 0]`.
 * - `mask`: an i8x16 swizzle that picks, from the 16 bytes at a tap, channel 0 at both taps,
 *   channel 1 at both, channel 2 at both, each zero-extended to i16 (index 0x80 gives 0).
 * - `into`: `3 * n` i32s, writable for 4 more bytes (each pixel stores a fourth lane that the next
 *   pixel overwrites).
 *
 * A sample is at most 255 and a weight at most 2048, so the i16 dot product is exact.
 */
export function hresize(row: usize, taps: usize, weights: usize, mask: usize, into: usize, n: i32): void {
  const m = v128.load(mask);
  let t = taps;
  let w = weights;
  let o = into;
  // Two pixels an iteration: a quarter faster than one.
  const pairs = taps + (<usize>(n & ~1) << 2);
  while (t < pairs) {
    const a = i8x16.swizzle(v128.load(row + <usize>load<i32>(t)), m);
    const b = i8x16.swizzle(v128.load(row + <usize>load<i32>(t, 4)), m);
    v128.store(o, i32x4.dot_i16x8_s(a, v128.load(w)));
    v128.store(o, i32x4.dot_i16x8_s(b, v128.load(w, 16)), 12);
    t += 8;
    w += 32;
    o += 24;
  }
  if (n & 1) {
    const s = i8x16.swizzle(v128.load(row + <usize>load<i32>(t)), m);
    v128.store(o, i32x4.dot_i16x8_s(s, v128.load(w)));
  }
}

// `(b * (S >> 4)) >> 16` on four lanes. `S >> 4` is at most 255 * 2048 >> 4 = 32640, so it fills
// the low i16 of its lane and the high i16 is 0, as in the splat weight `b` <= 2048: the i16 dot
// product is then the plain product (one instruction where an i32 multiply takes two), which is
// below 2^26, so its high half `>> 16` is at most 1020.
// @ts-ignore: decorator
@inline
function weighed(p: usize, b: v128): v128 {
  return i32x4.shr_u(i32x4.dot_i16x8_s(i32x4.shr_s(v128.load(p), 4), b), 16);
}

// Eight such pairs `(A0 + A1 + 2) >> 2`, in i16 lanes (A0 + A1 is at most 2040).
// @ts-ignore: decorator
@inline
function eight(p0: usize, p1: usize, b0: v128, b1: v128, two: v128): v128 {
  const a0 = i16x8.narrow_i32x4_s(weighed(p0, b0), weighed(p0 + 16, b0));
  const a1 = i16x8.narrow_i32x4_s(weighed(p1, b1), weighed(p1 + 16, b1));
  return i16x8.shr_u(i16x8.add(i16x8.add(a0, a1), two), 2);
}

/**
 * Two int rows `r0`, `r1` of `n` values each into `n` bytes at `out`:
 * `(((b0 * (S0 >> 4)) >> 16) + ((b1 * (S1 >> 4)) >> 16) + 2) >> 2`, for values `S` in
 * 0..255 * 2048 and weights in 0..2048 (their sum at most 2049), so every result is within 0..255
 * and no narrow saturates.
 */
export function vresize(r0: usize, r1: usize, b0: i32, b1: i32, out: usize, n: i32): void {
  const w0 = i32x4.splat(b0);
  const w1 = i32x4.splat(b1);
  const two = i16x8.splat(2);
  const count = <usize>n;
  let j: usize = 0;
  for (; j + 16 <= count; j += 16) {
    const p0 = r0 + (j << 2);
    const p1 = r1 + (j << 2);
    const lo = eight(p0, p1, w0, w1, two);
    const hi = eight(p0 + 32, p1 + 32, w0, w1, two);
    v128.store(out + j, i8x16.narrow_i16x8_u(lo, hi));
  }
  for (; j < count; j++) {
    const s0 = load<i32>(r0 + (j << 2));
    const s1 = load<i32>(r1 + (j << 2));
    store<u8>(out + j, (((b0 * (s0 >> 4)) >> 16) + ((b1 * (s1 >> 4)) >> 16) + 2) >> 2);
  }
}
