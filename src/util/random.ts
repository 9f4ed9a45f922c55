/** Injected randomness: a deterministic PRNG for tests and simulations. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
}

/** Mulberry32: small, fast, and good enough for tie-breaks and test fixtures. Not for crypto. */
export function seededRandom(
  seed: number,
): Random & { int(maxExclusive: number): number; bytes(n: number): Uint8Array } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (maxExclusive) => Math.floor(next() * maxExclusive),
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}

export const mathRandom: Random = { next: () => Math.random() };
