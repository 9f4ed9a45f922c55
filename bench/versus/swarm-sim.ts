/**
 * Simulated swarm benchmark: 1 seeder + 50 leechers, every one a real `Session` (torrent,
 * uploader, choker, picker, wire protocol, storage) on the in-memory network with upload caps,
 * on virtual time; completion of the last leecher against the fluid-model lower bound
 * max(F/u_seed, N·F/(u_seed + Σ u_i)). Target: ratioToBound ≤ 1.2 in under 60 s of wall time.
 *   npm run bench -- swarm-sim [leechers] [pieces] [--seed N] [--json]
 * The upload caps are a quarter of issue 5's (seed 500 kB/s, leechers 125–375 kB/s) and the
 * file a quarter (64 × 256 KiB = 16 MiB), so the bound stays near 63 s of virtual time while
 * the bytes every session really moves, hashes and stores stay affordable in one process.
 */
import { runSwarm, type SwarmResult } from '../../test/sim/run-swarm.js';

export interface SwarmBenchOptions {
  readonly leechers?: number;
  readonly pieces?: number;
  readonly seed?: number;
}

/** Heterogeneous upload caps from 125 to 375 kB/s (mean 250 kB/s), deterministic. */
export const leecherUploadBps = (i: number): number => 125_000 + ((i * 7919) % 1001) * 250;

/** The benchmark scenario; small `leechers`/`pieces` give the smoke mode. */
export function runSwarmBench(o: SwarmBenchOptions = {}): Promise<SwarmResult> {
  return runSwarm({
    leechers: o.leechers ?? 50,
    pieces: o.pieces ?? 64,
    pieceLengthBytes: 256 * 1024,
    seedUploadBps: 500_000,
    leecherUploadBps,
    latencyMs: 25,
    seed: o.seed ?? 1,
    maxVirtualMs: 1_800_000,
  });
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const positional = process.argv
    .slice(2)
    .filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--seed');
  const leechers = Number(positional[0] ?? 50);
  const pieces = Number(positional[1] ?? 64);
  const seed = Number(flag('--seed') ?? 1);
  const cpuStart = process.cpuUsage();
  const r = await runSwarmBench({ leechers, pieces, seed });
  const cpu = process.cpuUsage(cpuStart);
  const { completedAtMs: _, ...summary } = r;
  const out = {
    ...summary,
    pieces,
    pieceKiB: 256,
    seed,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(out)}\n`);
  else {
    process.stdout.write(
      `swarm-sim (engine: session): ${r.completed}/${r.leechers} leechers in ${(r.completionMs / 1000).toFixed(1)} s virtual, ` +
        `bound ${(r.lowerBoundMs / 1000).toFixed(1)} s, ratio ${r.ratioToBound.toFixed(3)}, ` +
        `wasted ${(r.wastedBytes / 1e6).toFixed(1)} MB, wall ${r.wallSeconds.toFixed(1)} s, cpu ${out.cpuSeconds.toFixed(1)} s\n`,
    );
  }
}
