/** What the test asks of the page and what the page answers (plain data, through `page.evaluate`). */

export interface PageRun {
  /** Files served under `inputs/`. */
  readonly names: readonly string[];
  readonly mode: 'exact' | 'fast';
  /** Workers in the pool. */
  readonly size: number;
  /** Hash the files first (default true). */
  readonly hash?: boolean;
  /** The workers' script (default `worker.js`). */
  readonly workerScript?: string;
  /** Compare with `expected/<name>.bgr` (default true). */
  readonly compare?: boolean;
}

export interface PageOutcome {
  readonly ref: string;
  readonly kind: 'image' | 'failure';
  readonly stage?: string;
  readonly code?: string;
  readonly message?: string;
  readonly length?: number;
  readonly width?: number;
  readonly height?: number;
  readonly hashes?: readonly string[];
  /** Largest difference from the Node path's byte at the same place (256 when the lengths differ). */
  readonly maxDiff?: number;
  /** Mean absolute difference over all 602,112 bytes. */
  readonly meanDiff?: number;
  /** Bytes that differ. */
  readonly differing?: number;
}

export interface PageRunResult {
  /** From subscribing to the last outcome (reading, hashing, preparing), in ms. */
  readonly elapsedMs: number;
  readonly count: number;
  readonly outcomes: readonly PageOutcome[];
}
