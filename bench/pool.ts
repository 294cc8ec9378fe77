import { now } from './stats.js';

/** Timings of one pass over a set of inputs. */
export interface PassTiming {
  /** Milliseconds per item, from start to end of its own work (latency). */
  readonly latencies: number[];
  /** Wall-clock milliseconds of the whole pass. */
  readonly wallMs: number;
  readonly count: number;
}

/**
 * Runs `work` on every input with at most `inFlight` calls outstanding, and times each call and
 * the whole pass. Results are discarded as soon as `keep` has looked at them.
 */
export async function timedPass<I, O>(
  inputs: readonly I[],
  inFlight: number,
  work: (input: I) => Promise<O>,
  keep?: (input: I, output: O, index: number) => void,
): Promise<PassTiming> {
  const latencies: number[] = new Array<number>(inputs.length);
  let next = 0;
  const start = now();
  const lane = async (): Promise<void> => {
    while (next < inputs.length) {
      const index = next++;
      const input = inputs[index]!;
      const t0 = now();
      const output = await work(input);
      latencies[index] = now() - t0;
      keep?.(input, output, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, inputs.length) }, lane));
  return { latencies, wallMs: now() - start, count: inputs.length };
}

/** Wall-clock milliseconds per item of a set of passes (the inverse of throughput). */
export function wallPerItem(passes: readonly PassTiming[]): number {
  const wall = passes.reduce((sum, p) => sum + p.wallMs, 0);
  const count = passes.reduce((sum, p) => sum + p.count, 0);
  return count === 0 ? Number.NaN : wall / count;
}

/** All latencies of a set of passes. */
export function allLatencies(passes: readonly PassTiming[]): number[] {
  return passes.flatMap((p) => p.latencies);
}
