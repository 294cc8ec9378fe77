import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { now } from './stats.js';

/** One memory sample of this process. */
export interface MemorySample {
  /** Seconds since sampling started. */
  readonly t: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly externalMb: number;
  /** Images that had their outcome when the sample was taken. */
  readonly done: number;
  /** Resident set size of the server process, MB (NaN when unknown). */
  readonly serverRssMb: number;
  /** For a process tree: the plain sum of its processes' RSS (shared pages counted in each), MB. */
  readonly rssSumMb?: number;
}

const MB = 1024 * 1024;

/** Samples RSS and heap every `intervalMs` until stopped. */
export function sampleMemory(
  intervalMs: number,
  done: () => number,
  serverRssMb: () => number = () => Number.NaN,
): { stop(): MemorySample[] } {
  const samples: MemorySample[] = [];
  const start = now();
  const take = (): void => {
    const m = process.memoryUsage();
    samples.push({
      t: (now() - start) / 1000,
      rssMb: m.rss / MB,
      heapUsedMb: m.heapUsed / MB,
      externalMb: m.external / MB,
      done: done(),
      serverRssMb: serverRssMb(),
    });
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** Event-loop delay percentiles in ms. */
export interface LoopDelay {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** The timer interval of the event-loop monitor, ms. */
export const LOOP_RESOLUTION_MS = 10;

/**
 * Starts a fresh `monitorEventLoopDelay`; `stop()` disables it and gives its percentiles. One
 * monitor per timed run: a monitor enabled again after a pause records the whole pause as one
 * interval. The histogram records the whole interval between two ticks of its timer (the resolution
 * included: an idle loop shows about 10 ms at a 10 ms resolution), so the resolution is subtracted
 * to give the delay itself.
 */
export function watchEventLoop(): { stop(): LoopDelay } {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const delay = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
  histogram.enable();
  return {
    stop: () => {
      histogram.disable();
      return {
        p50Ms: delay(histogram.percentile(50)),
        p99Ms: delay(histogram.percentile(99)),
        maxMs: delay(histogram.max),
        meanMs: delay(histogram.mean),
      };
    },
  };
}
