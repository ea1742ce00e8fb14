/**
 * A seeded pseudo-random generator (mulberry32): the same seed gives the same kill points, outage
 * lengths and orders, so a failure seen once can be replayed with `RELIABILITY_SEED=<seed>`.
 */
export interface Prng {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** A float in [min, max). */
  between(min: number, max: number): number;
  /** A whole number in [min, max]. */
  int(min: number, max: number): number;
}

export function seedFromEnv(variable = 'RELIABILITY_SEED'): number {
  const given = process.env[variable];
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(
        `${variable} must be a whole number from 0 to 4294967295, got ${JSON.stringify(given)}`,
      );
    }
    return seed;
  }
  return Math.floor(Math.random() * 0xffffffff);
}

export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    between: (min, max) => min + next() * (max - min),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
  };
}
