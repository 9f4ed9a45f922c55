/**
 * Simulated swarm benchmark (issue 5): 1 seeder + 50 leechers with upload caps on an
 * in-process network; completion time against the fluid-model lower bound
 * max(F/u_seed, N·F/(u_seed + Σ u_leechers)). Target ratio ≤ 1.2.
 *   node --import tsx bench/versus/swarm-sim.ts [leechers] [pieces]
 */
import { runSwarmSim, type SwarmSimResult } from '../../test/sim/swarm-sim.js';

export interface SwarmBenchOptions {
  readonly leechers?: number;
  readonly pieces?: number;
  readonly seed?: number;
}

/** The benchmark scenario; small `leechers`/`pieces` give the smoke mode. */
export function runSwarmBench(o: SwarmBenchOptions = {}): SwarmSimResult {
  return runSwarmSim({
    leechers: o.leechers ?? 50,
    pieces: o.pieces ?? 256,
    pieceLengthBytes: 256 * 1024,
    seedUploadBps: 2_000_000,
    // Heterogeneous caps from 0.5 to 1.5 MB/s (mean 1 MB/s), deterministic.
    leecherUploadBps: (i) => 500_000 + ((i * 7919) % 1001) * 1000,
    latencyMs: 25,
    seed: o.seed ?? 1,
    maxTimeMs: 3_600_000,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const leechers = Number(process.argv[2] ?? 50);
  // The ratio depends on the file size: ramp-up and tail cost a roughly fixed ~13 s here, so
  // both a 64 MiB and a 128 MiB torrent are reported unless a piece count is given.
  const sizes = process.argv[3] ? [Number(process.argv[3])] : [256, 512];
  for (const pieces of sizes) {
    const started = performance.now();
    const r = runSwarmBench({ leechers, pieces });
    const wallMs = Math.round(performance.now() - started);
    const { completedAtMs: _, ...summary } = r;
    process.stdout.write(`${JSON.stringify({ leechers, pieces, pieceKiB: 256, ...summary, wallMs })}\n`);
  }
}
