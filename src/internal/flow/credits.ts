/**
 * The credit counter of a source's window: `window` credits per subscription, one taken for each
 * entry pulled. The credit of an emitted value becomes that value's {@link Lease} and comes back
 * when the lease is released (once, however often `release` is called).
 */
import type { Lease } from '../../model.js';

export interface Credits {
  /** Credits neither taken nor held by a lease. */
  readonly free: number;
  /** Leases handed out and not released yet. */
  readonly held: number;
  /** Takes a free credit; false when there is none. */
  take(): boolean;
  /** Gives a taken credit back without a lease (an entry that emits nothing, the end of the iterable). */
  giveBack(): void;
  /** Turns a taken credit into a lease; `released` runs after the credit came back. */
  lease(): Lease;
}

/** A counter of `window` credits; `released` runs after each lease gives its credit back. */
export function createCredits(window: number, origin: Lease['source'], released: () => void): Credits {
  let free = window;
  let held = 0;
  return {
    get free() {
      return free;
    },
    get held() {
      return held;
    },
    take() {
      if (free <= 0) return false;
      free -= 1;
      return true;
    },
    giveBack() {
      free += 1;
    },
    lease() {
      let holding = true;
      held += 1;
      return {
        release: () => {
          if (!holding) return;
          holding = false;
          held -= 1;
          free += 1;
          released();
        },
        source: origin,
      };
    },
  };
}
