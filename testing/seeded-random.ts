/**
 * A small seeded pseudo-random generator for reproducible test data, examples and benchmarks.
 */

/**
 * mulberry32: returns a function producing floats in [0, 1), the same sequence for the same seed.
 *
 * @example
 * const rnd = seededRandom(42);
 * const user = `u${Math.floor(rnd() * 1000)}`;
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
