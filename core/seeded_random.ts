/**
 * A small seeded pseudo-random generator (mulberry32) for reproducible fuzz and property tests:
 * the same seed gives the same sequence on every machine.
 */

/**
 * Returns a generator of numbers in [0, 1) from `seed`.
 *
 * @example
 * ```ts
 * const random = seededRandom(19);
 * random(); // the same first number on every run
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
