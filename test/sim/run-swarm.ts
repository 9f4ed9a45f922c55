/**
 * The flash-crowd scenario on real sessions: 1 seeder and N leechers with upload caps join at
 * time 0; the completion time of the last leecher is compared with the fluid-model lower bound
 *   T ≥ max(F / u_seed, N·F / (u_seed + Σ u_i))
 * (the seed must upload the file once; all N copies must cross someone's uplink). Leechers keep
 * seeding after they complete, as the fluid model assumes; downloads are not capped.
 */
import type { DiskModel } from '../../src/storage/memory-storage-factory.js';
import type { ChokerSettings } from '../../src/swarm/choker.js';
import { simTorrent } from './fixture.js';
import { type SimPeer, SimSwarm } from './sim-swarm.js';

export interface SwarmOptions {
  readonly leechers: number;
  readonly pieces: number;
  readonly pieceLengthBytes: number;
  readonly seedUploadBps: number;
  /** Upload cap of leecher `i`, bytes/s. */
  readonly leecherUploadBps: (i: number) => number;
  /** One-way latency of every link, ms. */
  readonly latencyMs: number;
  readonly seed: number;
  /** Give up after this much virtual time (default 1 h). */
  readonly maxVirtualMs?: number;
  /** The disk of each peer (default instant). */
  readonly disk?: (peer: {
    readonly role: 'seeder' | 'leecher';
    readonly index: number;
  }) => DiskModel | undefined;
  readonly lossRate?: number;
  readonly chokerSettings?: Partial<ChokerSettings>;
  /** Scripted events, set up before time starts (e.g. `sim.at(ms, …)`). */
  readonly scenario?: (sim: SimSwarm) => void;
}

export interface SwarmResult {
  readonly engine: 'session';
  readonly leechers: number;
  readonly completed: number;
  /** Virtual time when the last leecher completed (Infinity if one did not). */
  readonly completionMs: number;
  readonly lowerBoundMs: number;
  readonly ratioToBound: number;
  /** Virtual time simulated. */
  readonly virtualSeconds: number;
  readonly wallSeconds: number;
  readonly completedAtMs: readonly (number | null)[];
  readonly seedUploadedBytes: number;
  /** Bytes downloaded beyond one copy per leecher (endgame duplicates, re-downloads). */
  readonly wastedBytes: number;
  readonly bans: number;
  readonly hashFailures: number;
  /** Scheduler instants run. */
  readonly steps: number;
}

/** Fluid-model lower bound on the time for every leecher to finish, ms. */
export function fluidBoundMs(fileBytes: number, seedBps: number, leecherBps: readonly number[]): number {
  const total = seedBps + leecherBps.reduce((a, b) => a + b, 0);
  return 1000 * Math.max(fileBytes / seedBps, (leecherBps.length * fileBytes) / total);
}

export async function runSwarm(o: SwarmOptions): Promise<SwarmResult> {
  const started = performance.now();
  const torrent = simTorrent({ pieces: o.pieces, pieceLengthBytes: o.pieceLengthBytes, seed: o.seed });
  const sim = new SimSwarm({
    torrent,
    seed: o.seed,
    latencyMs: o.latencyMs,
    ...(o.lossRate ? { lossRate: o.lossRate } : {}),
    ...(o.chokerSettings ? { chokerSettings: o.chokerSettings } : {}),
  });
  const diskOf = (role: 'seeder' | 'leecher', index: number) => {
    const disk = o.disk?.({ role, index });
    return disk ? { disk } : {};
  };
  const seeder = await sim.addPeer({ role: 'seeder', uploadBps: o.seedUploadBps, ...diskOf('seeder', 0) });
  const leechers: SimPeer[] = [];
  for (let i = 0; i < o.leechers; i++) {
    leechers.push(
      await sim.addPeer({ role: 'leecher', uploadBps: o.leecherUploadBps(i), ...diskOf('leecher', i) }),
    );
  }
  await sim.until(sim.start(seeder));
  const t0 = sim.scheduler.now();
  // A flash crowd: each leecher learns the peers that joined before it (a tracker's answer).
  const adding = Promise.all(leechers.map((l) => sim.start(l)));
  o.scenario?.(sim);
  await sim.until(adding);
  const maxMs = t0 + (o.maxVirtualMs ?? 3_600_000);
  await sim.drive(() => leechers.every((l) => l.completedAtMs !== null), maxMs);
  const virtualSeconds = (sim.scheduler.now() - t0) / 1000;
  const fileBytes = torrent.metainfo.storageLengthBytes;
  const done = leechers.filter((l) => l.completedAtMs !== null);
  const completionMs =
    done.length === leechers.length ? Math.max(...done.map((l) => l.completedAtMs! - t0)) : Infinity;
  const lowerBoundMs = fluidBoundMs(
    fileBytes,
    o.seedUploadBps,
    leechers.map((l) => l.uploadBps),
  );
  const downloaded = leechers.reduce((n, l) => n + (l.handle?.status().downloadedBytes ?? 0), 0);
  const result: SwarmResult = {
    engine: 'session',
    leechers: o.leechers,
    completed: done.length,
    completionMs,
    lowerBoundMs,
    ratioToBound: completionMs / lowerBoundMs,
    virtualSeconds,
    wallSeconds: 0,
    completedAtMs: leechers.map((l) => (l.completedAtMs === null ? null : l.completedAtMs - t0)),
    seedUploadedBytes: sim.network.hostStats(seeder.ip).uploadedBytes,
    wastedBytes: Math.max(0, downloaded - done.length * fileBytes),
    bans: sim.bannedAddresses().length,
    hashFailures: sim.peers.reduce((n, p) => n + p.hashFailures, 0),
    steps: sim.steps,
  };
  await sim.close();
  return { ...result, wallSeconds: (performance.now() - started) / 1000 };
}
