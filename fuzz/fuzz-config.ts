/**
 * Shared fast-check settings: `npm test` runs each property briefly; set FUZZ_RUNS (e.g.
 * 100000) and FUZZ_SECONDS for a long run on demand. FUZZ_SEED reproduces a failure.
 */
export function fuzzParams(defaultRuns = 300): {
  numRuns: number;
  interruptAfterTimeLimit: number;
  seed?: number;
} {
  const numRuns = Number(process.env.FUZZ_RUNS ?? defaultRuns);
  const seconds = Number(process.env.FUZZ_SECONDS ?? (process.env.FUZZ_RUNS ? 600 : 5));
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  return { numRuns, interruptAfterTimeLimit: seconds * 1000, ...(seed === undefined ? {} : { seed }) };
}
