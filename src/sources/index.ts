/**
 * The athena-rx/sources entry point: lazy, cold sources reading under a credit window.
 *
 * @module athena-rx/sources
 */
export { fromBuffers, type FromBuffersOptions, type NamedBuffer } from './fromBuffers.js';
export { fromDirectory, DEFAULT_IMAGE_EXTENSIONS, type FromDirectoryOptions } from './fromDirectory.js';
export { fromFiles, type FromFilesOptions } from './fromFiles.js';
export { fromReadable, type FromReadableOptions } from './fromReadable.js';
export {
  fromUrls,
  isTransientHttpError,
  type BodyReader,
  type FetchLike,
  type FetchResponse,
  type FromUrlsOptions,
} from './fromUrls.js';
export { openJournal, type Journal } from './openJournal.js';
export { type ReadFile } from '../internal/input/file-read.js';
export { DEFAULT_MAX_BYTES, type SourceLimitOptions } from '../internal/input/limits.js';
export { type SkipOptions, type SkipRef } from '../internal/flow/source.js';
export {
  isFinalRecord,
  TRANSIENT_CODES,
  TRANSIENT_STAGES,
  type JournalClassified,
  type JournalFailure,
  type JournalRecord,
  type SourceFacts,
} from '../internal/journal/record.js';
export {
  DEFAULT_WINDOW_STALL_WARN_MS,
  type SourceEvent,
  type SourceFlowOptions,
  type WindowStallEvent,
} from '../internal/flow/stall.js';
export type { ImageTelemetryOptions, ImageTrace, ImagePhase } from '../telemetry/options.js';
