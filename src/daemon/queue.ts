/**
 * The download and seed queues as one pure decision: given every torrent the user wants
 * running, in queue order, which may run now. Torrents beyond the limits wait as `queued` (the
 * daemon keeps them out of the engine, dormant.ts; their record stays `active`).
 *
 * Slow torrents (qBittorrent's "do not count slow torrents"): a running torrent that moved less
 * than the slow rate for a while keeps running but stops holding a slot, so a dead swarm cannot
 * block the queue forever. It is judged only while it runs; a queued torrent is never slow.
 */
import type { TorrentRecord, TorrentSnapshot } from './store.js';

export interface QueueEntry {
  readonly infoHash: string;
  /** True when every wanted piece is verified (it seeds): it counts against the seed limit. */
  readonly isComplete: boolean;
  /** Runs now (not held by the queue). */
  readonly isRunning: boolean;
  /** Has been slow long enough that it no longer holds a slot. */
  readonly isSlow: boolean;
}

export interface QueueLimits {
  /** null: no limit. */
  readonly maxDownloads: number | null;
  readonly maxSeeds: number | null;
}

/** The info-hashes that may run; `entries` in queue order (position 0 first). */
export function planQueue(entries: readonly QueueEntry[], limits: QueueLimits): Set<string> {
  const run = new Set<string>();
  let downloads = 0;
  let seeds = 0;
  for (const e of entries) {
    const max = e.isComplete ? limits.maxSeeds : limits.maxDownloads;
    const used = e.isComplete ? seeds : downloads;
    if (e.isRunning && e.isSlow) {
      run.add(e.infoHash);
      continue;
    }
    if (max !== null && used >= max) continue;
    run.add(e.infoHash);
    if (e.isComplete) seeds++;
    else downloads++;
  }
  return run;
}

/** Tracks how long each running torrent has been slow. */
export class SlowTracker {
  private readonly slowSinceMs = new Map<string, number>();

  /** Record one observation; returns whether the torrent is now slow. */
  observe(infoHash: string, rateBps: number, slowBps: number, slowAfterMs: number, nowMs: number): boolean {
    if (rateBps >= slowBps) {
      this.slowSinceMs.delete(infoHash);
      return false;
    }
    const since = this.slowSinceMs.get(infoHash);
    if (since === undefined) {
      this.slowSinceMs.set(infoHash, nowMs);
      return false;
    }
    return nowMs - since >= slowAfterMs;
  }

  forget(infoHash: string): void {
    this.slowSinceMs.delete(infoHash);
  }
}

/** Queue order: the stored order first (moved by the user), then everything else by id. */
export function queueOrder<T extends { readonly infoHash: string; readonly id: number }>(
  records: readonly T[],
  stored: readonly string[],
): T[] {
  const rank = new Map<string, number>();
  for (const [i, h] of stored.entries()) rank.set(h, i);
  return [...records].sort((a, b) => {
    const ra = rank.get(a.infoHash) ?? Number.MAX_SAFE_INTEGER;
    const rb = rank.get(b.infoHash) ?? Number.MAX_SAFE_INTEGER;
    return ra !== rb ? ra - rb : a.id - b.id;
  });
}

/** The stored order after moving `infoHash` to `position` (clamped) within `ordered`. */
export function moveInQueue(ordered: readonly string[], infoHash: string, position: number): string[] {
  const rest = ordered.filter((h) => h !== infoHash);
  const at = Math.max(0, Math.min(rest.length, Math.floor(position)));
  rest.splice(at, 0, infoHash);
  return rest;
}

/**
 * What a start does with the stored torrents: `run` goes to the engine (the active ones the
 * queue lets run, in queue order, and paused ones without a snapshot yet, which run once to get
 * one); `hold` waits queued. Completeness comes from each record's snapshot (written when it
 * completed or left the engine); without one a torrent counts as a download.
 */
export function planRestore(
  records: readonly TorrentRecord[],
  storedOrder: readonly string[],
  limits: QueueLimits,
): { run: TorrentRecord[]; hold: TorrentRecord[] } {
  const wanted = queueOrder(
    records.filter((r) => r.state === 'active'),
    storedOrder,
  );
  const allowed = planQueue(
    wanted.map((r) => ({
      infoHash: r.infoHash,
      isComplete: isCompleteSnapshot(r.snapshot),
      isRunning: true,
      isSlow: false,
    })),
    limits,
  );
  return {
    run: [
      ...wanted.filter((r) => allowed.has(r.infoHash)),
      ...records.filter((r) => r.state === 'paused' && !r.snapshot),
    ],
    hold: wanted.filter((r) => !allowed.has(r.infoHash)),
  };
}

function isCompleteSnapshot(s: TorrentSnapshot | null): boolean {
  return s !== null && s.wantedBytes > 0 && s.verifiedBytes >= s.wantedBytes;
}
