/**
 * The worker's ledger of the chunks it holds: for each ref fed to the pipeline, the chunk waiting
 * for its outcome, and per chunk how many outcomes are still due, how many were recorded and the
 * first error that makes it fail (and so go back to the queue). Plain data and functions; the
 * worker's shell runs the I/O.
 */
import type { AthenaError } from '../errors.js';

/** A chunk being worked on. */
export interface HeldChunk {
  readonly run: string;
  readonly chunk: number;
  /** Outcomes still due. */
  remaining: number;
  /** Outcomes this worker recorded. */
  recorded: number;
  /** Set when the chunk must be tried again (a non-final outcome, a failed write). */
  error: AthenaError | undefined;
}

export interface Ledger {
  /** Ref key to the chunks waiting for an outcome of it, oldest first. */
  readonly waiting: Map<string, HeldChunk[]>;
}

export function newLedger(): Ledger {
  return { waiting: new Map() };
}

/** Holds a chunk whose `keys` (refs' outcome keys) go to the pipeline. */
export function hold(ledger: Ledger, run: string, chunk: number, keys: readonly string[]): HeldChunk {
  const held: HeldChunk = { run, chunk, remaining: keys.length, recorded: 0, error: undefined };
  for (const key of keys) {
    const list = ledger.waiting.get(key);
    if (list === undefined) ledger.waiting.set(key, [held]);
    else list.push(held);
  }
  return held;
}

/** The chunk an outcome of `key` belongs to (undefined for one nobody waits for). */
export function claim(ledger: Ledger, key: string): HeldChunk | undefined {
  const list = ledger.waiting.get(key);
  const held = list?.shift();
  if (list !== undefined && list.length === 0) ledger.waiting.delete(key);
  return held;
}

/** Counts one outcome of the chunk in (recorded or not, or failed with `error`); true when none is due. */
export function settle(held: HeldChunk, recorded: boolean, error?: AthenaError): boolean {
  held.remaining -= 1;
  if (recorded) held.recorded += 1;
  if (error !== undefined) held.error ??= error;
  return held.remaining <= 0;
}
