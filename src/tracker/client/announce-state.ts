import type { AnnounceEvent, AnnounceResponse } from '../protocol/announce.js';

/**
 * When and what to announce to one tracker: a pure state machine on injected time.
 *
 * Invariants:
 *  - `started` is the first event a tracker sees from us; after a success it is never sent again
 *    (unless `reset()` after `stopped`).
 *  - `completed` is sent at most once per tracker, and only to a tracker that saw `started`
 *    (a tracker that first hears of us after completion learns it from `left=0`); a download
 *    that finishes while `started` is still on its way sends `completed` right after it.
 *  - `completed` goes out at once, without waiting for `min interval` (as libtorrent and
 *    Transmission do): it is a one-off state change, and `get --seed` would otherwise stay a
 *    leecher to the tracker until the next interval. Regular announces never go out before
 *    the tracker's `min interval` has passed since the last success.
 *  - Failures back off exponentially from `backoffBaseMs` to `backoffMaxMs`.
 */
export interface ScheduleOptions {
  /** Floor for the tracker's `interval` (hostile or buggy trackers say 0). */
  minIntervalFloorMs: number;
  /** Ceiling for the tracker's `interval`. */
  maxIntervalMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_SCHEDULE: ScheduleOptions = {
  minIntervalFloorMs: 30_000,
  maxIntervalMs: 6 * 3600_000,
  backoffBaseMs: 15_000,
  backoffMaxMs: 30 * 60_000,
};

export class TrackerAnnounceState {
  /** When the next announce is due (ms on the injected clock); 0 = now. */
  nextAnnounceAtMs = 0;
  /** Earliest time any announce may go out (`min interval`). */
  notBeforeMs = 0;
  intervalMs = 0;
  /** Consecutive failures; 0 means the last attempt worked (or none was made). */
  failures = 0;
  hasAnnounced = false;
  isStartedSent = false;
  isCompletedPending = false;
  isCompletedSent = false;
  /** When the download finished (ms), for `completed`'s due time. */
  private completedAtMs = 0;
  isInFlight = false;
  trackerId: Uint8Array | undefined;
  lastError: Error | undefined;
  /** Last tracker counts, if it sent any. */
  seeders: number | undefined;
  leechers: number | undefined;

  constructor(
    readonly url: string,
    private readonly options: ScheduleOptions = DEFAULT_SCHEDULE,
  ) {}

  /** Working = announced at least once and the last attempt succeeded. */
  get isWorking(): boolean {
    return this.hasAnnounced && this.failures === 0;
  }

  nextEvent(): AnnounceEvent {
    if (!this.isStartedSent) return 'started';
    if (this.isCompletedPending) return 'completed';
    return 'none';
  }

  /** The time this tracker wants to announce next, honouring `min interval`. */
  dueAtMs(): number {
    const regular = Math.max(this.nextAnnounceAtMs, this.notBeforeMs);
    if (this.isCompletedPending && this.isStartedSent && this.failures === 0)
      return Math.min(regular, this.completedAtMs);
    return regular;
  }

  isDue(nowMs: number): boolean {
    return !this.isInFlight && nowMs >= this.dueAtMs();
  }

  /** The download finished: announce `completed` as soon as `min interval` allows. */
  markCompleted(nowMs: number): void {
    if (this.isCompletedSent || this.isCompletedPending) return;
    // Not even `started` on its way: the first announce will say `left=0` itself.
    if (!this.isStartedSent && !this.isInFlight) return;
    this.isCompletedPending = true;
    this.completedAtMs = nowMs;
    this.nextAnnounceAtMs = Math.min(this.nextAnnounceAtMs, nowMs);
  }

  /** An announce is going out: returns the event to send. */
  begin(): AnnounceEvent {
    this.isInFlight = true;
    return this.nextEvent();
  }

  onSuccess(nowMs: number, event: AnnounceEvent, res: AnnounceResponse): void {
    this.isInFlight = false;
    this.hasAnnounced = true;
    this.failures = 0;
    this.lastError = undefined;
    if (event === 'started') this.isStartedSent = true;
    if (event === 'completed') {
      this.isCompletedSent = true;
      this.isCompletedPending = false;
    }
    const o = this.options;
    this.intervalMs = clamp(res.intervalSeconds * 1000, o.minIntervalFloorMs, o.maxIntervalMs);
    const minMs = res.minIntervalSeconds === undefined ? 0 : res.minIntervalSeconds * 1000;
    this.notBeforeMs = nowMs + Math.min(minMs, this.intervalMs);
    this.nextAnnounceAtMs = nowMs + this.intervalMs;
    if (res.trackerId !== undefined) this.trackerId = res.trackerId;
    this.seeders = res.complete;
    this.leechers = res.incomplete;
  }

  onFailure(nowMs: number, err: Error): void {
    this.isInFlight = false;
    // `started` failed: the retry carries `left=0`, so the tracker needs no `completed`.
    if (!this.isStartedSent) this.isCompletedPending = false;
    this.hasAnnounced = true;
    this.failures++;
    this.lastError = err;
    this.nextAnnounceAtMs = nowMs + this.backoffMs();
  }

  /** Backoff after the current number of failures: base · 2^(n-1), capped. */
  backoffMs(): number {
    const n = Math.max(0, this.failures - 1);
    return Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** Math.min(n, 30));
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
