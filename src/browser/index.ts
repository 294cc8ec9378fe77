/**
 * The athena-rx/browser entry point: reading the files a user picks, hashing them and preparing
 * them for the model in the browser, bit for bit as the Node path does, with nothing of Node in the
 * import graph. Together with the railway types and operators of `athena-rx` and
 * `athena-rx/operators` that run anywhere (`partitionErrors`, `batch`, ...).
 * Also `classifyVia`, which sends prepared images to an application's gateway (`athena-rx/nest`).
 *
 * @module athena-rx/browser
 */
export { fromFileList, type BlobRef, type FromFileListOptions } from './fromFileList.js';
export { hashImage } from './hashImage.js';
export { resize, DEFAULT_MAX_WORKERS, type BrowserResizeOptions } from './resize.js';
export { startPrepareWorker } from './worker.js';
export { type DecoderWasm, type WasmSource } from './wasm-sources.js';
export type { BlobLike, FileListLike, WorkerLike, WorkerEvent, WorkerScopeLike } from './web.js';
export type { HashImageOptions, HashWork } from '../internal/work/hash-items.js';
export type { SourceFlowOptions, SourceEvent, WindowStallEvent } from '../internal/flow/stall.js';
export type { SourceLimitOptions } from '../internal/input/limits.js';
export type { PrepareMode } from '../imaging/prepare-core.js';
export {
  classifyVia,
  DEFAULT_VIA_RECONNECT,
  type ClassifyViaOptions,
  type ViaInput,
  type ViaSocket,
  type WebSocketFactory,
} from './classify-via.js';
