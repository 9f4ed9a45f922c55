/**
 * The daemon's periodic work, one tick every few seconds through the Scheduler: the global
 * limits (with the alternative-speed schedule), seeding time, seeding goals, moving finished
 * torrents to the completed folder, and the download/seed queues. Each step is a pure decision
 * (alt-speed.ts, seeding-goals.ts, queue.ts) applied here.
 *
 * Queued torrents are kept out of the engine (dormant.ts) while their record stays `active`: a
 * restart brings them back queued, and the user's own pause is a different state (`paused`
 * record). Nothing of a queued torrent runs: no announce, no dial, no storage.
 */
import type { TorrentHandle } from '../session/torrent-handle.js';
import type { TorrentStatus } from '../session/torrent-types.js';
import { type CancelTimer, type Scheduler, systemScheduler } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { effectiveLimits, localTime } from './alt-speed.js';
import type { Daemon } from './daemon.js';
import { dormantStatus } from './dormant.js';
import { planQueue, type QueueEntry, queueOrder, SlowTracker } from './queue.js';
import { goalReached } from './seeding-goals.js';
import type { DaemonSettings } from './settings.js';
import type { TorrentRecord } from './store.js';

/** How often the jobs run; the queue reacts within one tick. */
export const JOB_TICK_MS = 2_000;
/** Seeding time is written to the store at most this often (and at close). */
const SEEDED_SAVE_MS = 60_000;

export class DaemonJobs {
  private readonly queued = new Set<string>();
  private readonly slow = new SlowTracker();
  private readonly seededMs = new Map<string, number>();
  private lastTickMs: number;
  private lastSavedMs: number;
  private isSeededDirty = false;
  private appliedLimits = '';
  private isAltActive = false;
  private ticking: Promise<void> | null = null;
  private cancel: CancelTimer | null = null;
  private cancelSoon: CancelTimer | null = null;

  constructor(
    private readonly daemon: Daemon,
    private readonly scheduler: Scheduler = systemScheduler,
  ) {
    this.lastTickMs = scheduler.now();
    this.lastSavedMs = this.lastTickMs;
    const stored = daemon.store.getSettings().seededMs;
    if (stored && typeof stored === 'object')
      for (const [h, ms] of Object.entries(stored as Record<string, unknown>))
        if (typeof ms === 'number' && ms >= 0) this.seededMs.set(h, ms);
  }

  start(): void {
    this.applyLimits(this.daemon.settings());
    this.cancel ??= this.scheduler.setInterval(JOB_TICK_MS, () => {
      this.tick().catch((err: unknown) => this.daemon.log('warn', `daemon jobs: ${errorMessage(err)}`));
    });
  }

  async stop(): Promise<void> {
    this.cancel?.();
    this.cancel = null;
    this.cancelSoon?.();
    this.cancelSoon = null;
    await this.ticking;
    this.saveSeeded(true);
  }

  isQueued(infoHash: string): boolean {
    return this.queued.has(infoHash);
  }

  get isAltSpeedActive(): boolean {
    return this.isAltActive;
  }

  seededSeconds(infoHash: string): number {
    return Math.floor((this.seededMs.get(infoHash) ?? 0) / 1000);
  }

  /** The torrent left the queue's hands: paused by the user, or removed. */
  release(infoHash: string): void {
    this.queued.delete(infoHash);
    this.slow.forget(infoHash);
  }

  forget(infoHash: string): void {
    this.release(infoHash);
    if (this.seededMs.delete(infoHash)) this.isSeededDirty = true;
  }

  /** Mark a torrent (out of the engine) as waiting in its queue. */
  hold(infoHash: string): void {
    this.queued.add(infoHash);
    this.slow.forget(infoHash);
  }

  /**
   * Is the queue this torrent (not running yet) belongs to, downloads or seeds, full? Only the
   * engine's torrents count: queued and paused ones are not in it. The periodic tick later
   * reorders by position.
   */
  shouldHold(record: TorrentRecord): boolean {
    const s = this.daemon.settings();
    const isComplete = isCompleteStatus(dormantStatus(record));
    const max = isComplete ? s.maxActiveSeeds : s.maxActiveDownloads;
    if (max === null) return false;
    let used = 0;
    for (const h of this.daemon.session.list()) {
      if (h.infoHash === record.infoHash) continue;
      const st = h.status();
      if (st.state === 'paused' || st.state === 'stopped' || st.state === 'error') continue;
      if (isCompleteStatus(st) === isComplete) used++;
    }
    return used >= max;
  }

  /**
   * A torrent finished (its check or its download): run a round on the next turn rather than at
   * the next tick, so a queue of torrents that only need checking does not move 5 every 2 s.
   * Calls in one turn share that round; a round under way is followed by one more.
   */
  runSoon(): void {
    if (!this.cancel || this.cancelSoon) return;
    this.cancelSoon = this.scheduler.setTimer(0, () => {
      this.cancelSoon = null;
      const after = this.ticking ?? Promise.resolve();
      void after
        .then(() => this.tick())
        .catch((err: unknown) => this.daemon.log('warn', `daemon jobs: ${errorMessage(err)}`));
    });
  }

  /** One round of every job; overlapping calls share the round under way. */
  tick(): Promise<void> {
    this.ticking ??= this.runTick().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async runTick(): Promise<void> {
    const s = this.daemon.settings();
    const now = this.scheduler.now();
    const elapsed = Math.max(0, now - this.lastTickMs);
    this.lastTickMs = now;
    this.applyLimits(s);
    const active = this.activeTorrents();
    for (const { record, handle, status } of active)
      if (status.state === 'seeding' && !this.queued.has(record.infoHash)) {
        this.seededMs.set(record.infoHash, (this.seededMs.get(record.infoHash) ?? 0) + elapsed);
        this.isSeededDirty = true;
        await this.enforceGoal(record, handle, status, s);
      }
    await this.moveCompleted(s);
    await this.runQueue(s, now);
    this.saveSeeded(false);
  }

  private applyLimits(s: DaemonSettings): void {
    const limits = effectiveLimits(s, localTime(this.daemon.wallClock()));
    this.isAltActive = limits.isAlt;
    const key = `${limits.downloadBps}/${limits.uploadBps}`;
    if (key === this.appliedLimits) return;
    this.appliedLimits = key;
    this.daemon.session.setGlobalLimits(limits);
  }

  private activeTorrents(): { record: TorrentRecord; handle: TorrentHandle; status: TorrentStatus }[] {
    const out: { record: TorrentRecord; handle: TorrentHandle; status: TorrentStatus }[] = [];
    for (const record of this.daemon.store.listTorrents()) {
      if (record.state !== 'active') continue;
      const handle = this.daemon.session.get(record.infoHash);
      if (handle) out.push({ record, handle, status: handle.status() });
    }
    return out;
  }

  private async enforceGoal(
    record: TorrentRecord,
    handle: TorrentHandle,
    status: TorrentStatus,
    s: DaemonSettings,
  ): Promise<void> {
    const reached = goalReached(
      record.seedGoals,
      { ratio: s.seedRatio, seedSeconds: s.seedSeconds },
      { ...status, seededMs: this.seededMs.get(record.infoHash) ?? 0 },
    );
    if (!reached) return;
    const why =
      reached.kind === 'ratio'
        ? `ratio ${reached.ratio.toFixed(2)}`
        : `${Math.round(reached.seconds)} s seeded`;
    this.daemon.log('info', `${handle.infoHash}: seeding goal reached (${why}): ${s.seedGoalAction}`);
    if (s.seedGoalAction === 'remove') await this.daemon.remove(record.infoHash);
    else await this.daemon.pause(record.infoHash);
  }

  private async moveCompleted(s: DaemonSettings): Promise<void> {
    if (s.completedDir === null) return;
    for (const { record, status } of this.activeTorrents()) {
      if (status.state !== 'seeding' || this.queued.has(record.infoHash)) continue;
      try {
        await this.daemon.moveToCompleted(record.infoHash, s.completedDir);
      } catch (err) {
        this.daemon.log(
          'warn',
          `${record.infoHash}: could not move to ${s.completedDir}: ${errorMessage(err)}`,
        );
      }
    }
  }

  private async runQueue(s: DaemonSettings, now: number): Promise<void> {
    const order = this.daemon.queueOrder();
    const slowAfterMs = s.slowAfterSeconds * 1000;
    const entries: QueueEntry[] = [];
    const wanted = this.daemon.store.listTorrents().filter((r) => r.state === 'active');
    for (const record of queueOrder(wanted, order)) {
      const isRunning = !this.queued.has(record.infoHash);
      const handle = this.daemon.session.get(record.infoHash);
      // Running but not in the engine: it failed to start (shown with its error), not queued.
      if (isRunning && !handle) continue;
      const status = handle?.status() ?? dormantStatus(record);
      const isComplete = isCompleteStatus(status);
      // Checking is busy work, never "slow"; a magnet without metadata is slow like a dead swarm.
      const rate =
        status.state === 'checking'
          ? Number.POSITIVE_INFINITY
          : isComplete
            ? status.uploadRate
            : status.downloadRate;
      const isSlow =
        isRunning &&
        this.slow.observe(
          record.infoHash,
          rate,
          isComplete ? s.slowUploadBps : s.slowDownloadBps,
          slowAfterMs,
          now,
        );
      entries.push({ infoHash: record.infoHash, isComplete, isRunning, isSlow });
    }
    const run = planQueue(entries, { maxDownloads: s.maxActiveDownloads, maxSeeds: s.maxActiveSeeds });
    for (const e of entries) {
      if (run.has(e.infoHash) && !e.isRunning) {
        this.queued.delete(e.infoHash);
        await this.daemon.wake(e.infoHash);
      } else if (!run.has(e.infoHash) && e.isRunning) {
        this.queued.add(e.infoHash);
        this.slow.forget(e.infoHash);
        await this.daemon.sleep(e.infoHash);
      }
    }
  }

  private saveSeeded(isForced: boolean): void {
    if (!this.isSeededDirty) return;
    const now = this.scheduler.now();
    if (!isForced && now - this.lastSavedMs < SEEDED_SAVE_MS) return;
    this.lastSavedMs = now;
    this.isSeededDirty = false;
    const live = new Set(this.daemon.store.listTorrents().map((r) => r.infoHash));
    const out: Record<string, number> = {};
    for (const [h, ms] of this.seededMs) if (live.has(h)) out[h] = Math.round(ms);
    this.daemon.store.setSettings({ seededMs: out });
  }
}

/** Complete = seeds (counts against the seed limit); a paused torrent keeps its last progress. */
export function isCompleteStatus(status: TorrentStatus): boolean {
  if (status.state === 'seeding') return true;
  if (status.state === 'metadata' || status.state === 'checking' || status.state === 'downloading')
    return false;
  return status.wantedBytes > 0 && status.verifiedBytes >= status.wantedBytes;
}
