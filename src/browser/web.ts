/**
 * The few browser objects the browser entry point touches, typed structurally: the project compiles
 * without the DOM library (it is a Node library first), and structural types let any `File`, `Blob`,
 * `FileList` or `Worker` (or a test's stand-in) through. Types only.
 */

/** A `Blob` or `File`: its size, a slice, and its bytes. */
export interface BlobLike {
  readonly size: number;
  /** A `File`'s name; a plain `Blob` has none. */
  readonly name?: string;
  slice(start?: number, end?: number): BlobLike;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A `FileList` (from `<input type="file">` or a drop): indexed, with a length. */
export interface FileListLike {
  readonly length: number;
  item(index: number): BlobLike | null;
}

/** The part of a dedicated `Worker` the pool uses. */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  addEventListener(type: 'message' | 'error' | 'messageerror', listener: (event: WorkerEvent) => void): void;
  terminate(): void;
}

/** A `MessageEvent` (with `data`) or an `ErrorEvent` (with `message`). */
export interface WorkerEvent {
  readonly data?: unknown;
  readonly message?: string;
}

/** A worker's global scope, as `startPrepareWorker` listens on it. */
export interface WorkerScopeLike {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
}

/** The part of the WebAssembly JS API used here (not in the ES library this project compiles with). */
export interface WasmApi {
  readonly Module: abstract new (...args: never[]) => object;
  compile(bytes: ArrayBuffer | ArrayBufferView): Promise<object>;
}

/** `globalThis.WebAssembly`, or `undefined` where there is none. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}
