/**
 * The athena-rx/operators entry point: one operator per module, explicit named exports only.
 *
 * @module athena-rx/operators
 */
export { batch, DEFAULT_BATCH_MAX_BYTES, type BatchOptions } from './batch.js';
export { classify, DEFAULT_RECONNECT_POLICY, type ClassifyInput, type ClassifyOptions } from './classify.js';
export { classifyEach, type ClassifyEachOptions } from './classifyEach.js';
export { compress, DEFAULT_BROTLI_QUALITY, type BrotliWork, type CompressOptions } from './compress.js';
export {
  correlate,
  MAX_CORRELATION_ID_LENGTH,
  type CorrelateOptions,
  type CorrelationProvider,
} from './correlate.js';
export {
  dedupe,
  createDedupeCache,
  type CachedClassification,
  type DedupeCache,
  type DedupeCacheOptions,
  type DedupeOptions,
} from './dedupe.js';
export { detectFormat, type DetectFormatOptions } from './detectFormat.js';
export { hashImage, type HashImageOptions, type HashWork } from './hashImage.js';
export { journal, type JournalOptions, type JournalWriter } from './journal.js';
export { partitionErrors, type PartitionErrorsOptions } from './partitionErrors.js';
export {
  progress,
  createProgress,
  type ProgressOptions,
  type ProgressSnapshot,
  type ProgressStatus,
  type ProgressTracker,
} from './progress.js';
export { releaseLeases } from './releaseLeases.js';
export { resize, type PrepareWork, type ResizeOptions } from './resize.js';
export {
  retryBackoff,
  retryPolicy,
  isRetryable,
  DEFAULT_RETRY_POLICY,
  type RetryBackoffOptions,
  type RetryInfo,
  type RetryPolicy,
} from './retryBackoff.js';
