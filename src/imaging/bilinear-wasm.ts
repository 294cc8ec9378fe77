/**
 * The separable pass of `resizeBilinear` on WebAssembly SIMD: the kernels of
 * `wasm/bilinear.ts` (compiled into `src/generated/wasm/bilinear.ts`) behind the row steps of
 * `bilinear-rows.ts`. The source image stays where it is; each source row the pass needs is copied
 * alone into the module's memory, interpolated horizontally there into an int row, and each output
 * row is computed there from two int rows and copied out. One module instance serves every call
 * (the calls are synchronous); its memory grows to the widest row seen and is reused.
 */
import { bilinearWasmBytes } from '../generated/wasm/bilinear.js';
import { type PixelLayout, type RowKernel, type Taps } from './bilinear-rows.js';

interface Exports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  hresize(row: number, taps: number, weights: number, mask: number, into: number, n: number): void;
  vresize(r0: number, r1: number, b0: number, b1: number, out: number, n: number): void;
}

/** The part of the WebAssembly JS API used here (not in the ES lib this project compiles with). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: object };
}

const PAGE = 65536;
let loaded: Exports | null | undefined;

/** The module's exports, compiled and instantiated on first use; `null` where that fails. */
function kernels(): Exports | null {
  if (loaded === undefined) {
    try {
      const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
      loaded = api ? (new api.Instance(new api.Module(bilinearWasmBytes()), {}).exports as Exports) : null;
    } catch {
      loaded = null; // no WebAssembly SIMD here: the TypeScript loops do the work
    }
  }
  return loaded;
}

/** Whether the WebAssembly kernels can run here. */
export function bilinearWasmAvailable(): boolean {
  return kernels() !== null;
}

const align = (n: number): number => (n + 15) & ~15;

/**
 * The row steps of the vector-arithmetic separable pass on the WebAssembly kernels, or `undefined`
 * when they cannot be used (no WebAssembly SIMD, a layout whose two taps do not fit 16 bytes, or a
 * row too large for the module's memory); the caller then runs the TypeScript steps.
 */
export function wasmRows(
  src: Uint8Array,
  width: number,
  rowStride: number,
  firstRow: number,
  layout: PixelLayout,
  taps: Taps,
  out: Uint8Array,
): RowKernel | undefined {
  const ps = layout.pixelStride;
  const offsets = layout.channelOffsets;
  const fits = (c: number): boolean => Number.isInteger(c) && c >= 0 && c + ps <= 15;
  if (!Number.isInteger(ps) || ps < 0 || !offsets.every(fits)) return undefined;
  if (!Number.isInteger(rowStride) || !Number.isInteger(firstRow)) return undefined;
  const k = kernels();
  if (!k) return undefined;

  const n = taps.tap0.length;
  const rowLength = n * 3;
  // The bytes of a row that are read (`resizeBilinear` checked they lie inside `src`), and the 16
  // a load at the last tap covers (which hold them, as every offset + ps <= 15).
  const minC = Math.min(...offsets);
  const reach = (width - 1) * ps + Math.max(...offsets);
  const slotBytes = (width - 1) * ps + 16;
  const mask = k.heapBase();
  const tapTable = mask + 16;
  const weights = align(tapTable + n * 4);
  const rows = [weights + n * 16, 0];
  rows[1] = align(rows[0]! + n * 12 + 4);
  const outRow = align(rows[1]! + n * 12 + 4);
  const slot = align(outRow + rowLength);
  const end = slot + slotBytes;
  const have = k.memory.buffer.byteLength;
  if (end > have) {
    try {
      k.memory.grow(Math.ceil((end - have) / PAGE));
    } catch {
      return undefined;
    }
  }

  const { buffer } = k.memory;
  const bytes = new Uint8Array(buffer);
  const [c0, c1, c2] = offsets;
  bytes.set(
    [c0, 0x80, c0 + ps, 0x80, c1, 0x80, c1 + ps, 0x80, c2, 0x80, c2 + ps, 0x80, 0x80, 0x80, 0x80, 0x80],
    mask,
  );
  new Int32Array(buffer, tapTable, n).set(taps.tap0);
  const w = new Int16Array(buffer, weights, n * 8);
  for (let dx = 0, i = 0; dx < n; dx++, i += 8) {
    const a0 = taps.a0[dx]!;
    const a1 = taps.a1[dx]!;
    w[i] = w[i + 2] = w[i + 4] = a0;
    w[i + 1] = w[i + 3] = w[i + 5] = a1;
    w[i + 6] = w[i + 7] = 0;
  }

  return {
    hresize(y, into) {
      const start = firstRow + y * rowStride;
      bytes.set(src.subarray(start + minC, start + reach + 1), slot + minC);
      k.hresize(slot, tapTable, weights, mask, rows[into]!, n);
    },
    copy(from, to) {
      bytes.copyWithin(rows[to]!, rows[from]!, rows[from]! + n * 12);
    },
    vresize(first, b0, b1, dy) {
      k.vresize(rows[first]!, rows[1 - first]!, b0, b1, outRow, rowLength);
      out.set(bytes.subarray(outRow, outRow + rowLength), dy * rowLength);
    },
  };
}
