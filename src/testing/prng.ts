/**
 * A tiny seeded pseudo-random generator (mulberry32) for reproducible fault injection. Not for
 * anything that needs real randomness.
 */

/** A source of numbers in `[0, 1)`. */
export type Random = () => number;

/**
 * A deterministic generator: the same `seed` always yields the same sequence.
 *
 * @param seed - Any integer; only its low 32 bits are used.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for when none was given. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296);
}
