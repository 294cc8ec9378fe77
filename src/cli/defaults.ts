/**
 * The defaults of `athena-rx classify` that differ from the library's: together with the malloc
 * tunables of `relaunch.ts` they keep a long run's resident memory bounded without giving up
 * throughput (figures in docs/performance.md, section 5). The library's operators keep their own
 * defaults; docs/flow-control.md says what a library user sets for the same result.
 */
import { cpuCount } from '../internal/core/validate.js';

/**
 * `--max-pixels-in-flight`, in pixels' worth of decoder memory (see `imaging/decode-memory`): about
 * 110 MB. A 10-megapixel progressive JPEG (about 70 MB of pixels and coefficients) decodes beside a
 * 6-megapixel one or beside small ones, never beside another large one or a large WebP.
 */
export const CLI_MAX_PIXELS_IN_FLIGHT = 36_000_000;

/**
 * `--window`: images read and not yet answered. 16 instead of the sources' 32 halves what waits
 * for the decoder and for the service, at no cost in throughput against a service nearby.
 */
export const CLI_WINDOW = 16;

/** `--batch-size`: the window's worth, so a batch fills instead of waiting out its timer. */
export const CLI_BATCH_SIZE = 16;

/**
 * `--concurrency`: twice the cores. The pixel budget, not this, bounds the memory of decoding: while
 * a large photo decodes and the next large one waits for room, the small images behind them may go
 * ahead under the budget and keep the other cores busy, and the main thread's share of each image
 * (hashing, the bilinear step) overlaps the decodes.
 */
export function cliConcurrency(): number {
  return 2 * cpuCount();
}
