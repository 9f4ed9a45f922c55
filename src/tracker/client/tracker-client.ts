import type { CancelTimer, Clock, Scheduler } from '../../util/clock.js';
import { mathRandom, type Random } from '../../util/random.js';
import { TypedEmitter } from '../../util/typed-emitter.js';
import { TrackerError } from '../errors.js';
import type { AnnounceEvent, AnnounceRequest, AnnounceResponse } from '../protocol/announce.js';
import type { PeerAddress } from '../protocol/compact.js';
import { DEFAULT_SCHEDULE, type ScheduleOptions, type TrackerAnnounceState } from './announce-state.js';
import { schedulerFrom } from './scheduling.js';
import { TrackerTiers } from './tiers.js';
import { DefaultTrackerTransport, isSupportedTrackerUrl, type TrackerTransport } from './transport.js';

/**
 * The trackers of one torrent. Decisions (who, when, which event) live in the pure
 * `TrackerTiers` / `TrackerAnnounceState`; this class only turns them into transport calls
 * and events, and keeps one timer for the next due announce. Every timer (the upkeep timer, the
 * per-announce timeout, the bound on `stop()`) runs on the injected `Scheduler`, so a whole
 * client runs on virtual time in tests and simulations.
 */
export interface TrackerStats {
  uploaded: number;
  downloaded: number;
  left: number;
}

export interface TrackerClientEvents {
  [key: string]: (...args: never[]) => void;
  peers: (peers: readonly PeerAddress[], trackerUrl: string) => void;
  error: (trackerUrl: string, err: Error) => void;
  warning: (trackerUrl: string, message: string) => void;
  announced: (trackerUrl: string, event: AnnounceEvent, res: AnnounceResponse) => void;
}

export interface TrackerClientOptions {
  /** 20 bytes: the v1 info-hash, or for a v2-only torrent the truncated v2 hash. */
  infoHash: Uint8Array;
  peerId: Uint8Array;
  port: number;
  /** BEP 12 tiers (`announce-list`, or `[[announce]]`). Unsupported schemes are ignored. */
  announceTiers: readonly (readonly string[])[];
  getStats(): TrackerStats;
  /** Timers and time (default the event loop's); a `VirtualScheduler` in tests and simulations. */
  scheduler?: Scheduler;
  /** @deprecated Pass `scheduler`; a Scheduler passed here is used as one. */
  clock?: Clock;
  random?: Random;
  /** Share one across torrents; if omitted the client makes one and closes it on `stop()`. */
  transport?: TrackerTransport;
  /** Default 50. */
  numWant?: number;
  /** A random u32 sent as `key`. */
  key?: number;
  schedule?: Partial<ScheduleOptions>;
  /** Total time `stop()` waits for `stopped` announces (default 1500 ms, on the scheduler). */
  stopTimeoutMs?: number;
  /** Per-announce timeout for the whole exchange (default 30 s). */
  announceTimeoutMs?: number;
  /** False: no upkeep timer; the owner calls `upkeep()` (announce timeouts still run on the scheduler). */
  autoUpkeep?: boolean;
  onPeers?: TrackerClientEvents['peers'];
  onError?: TrackerClientEvents['error'];
  onWarning?: TrackerClientEvents['warning'];
}

export interface TrackerSummary {
  url: string;
  tier: number;
  isWorking: boolean;
  failures: number;
  lastError: string | undefined;
  nextAnnounceAtMs: number;
  seeders: number | undefined;
  leechers: number | undefined;
}

export class TrackerClient extends TypedEmitter<TrackerClientEvents> {
  private readonly tiers: TrackerTiers;
  private readonly scheduler: Scheduler;
  private readonly transport: TrackerTransport;
  private readonly ownsTransport: boolean;
  private readonly inFlight = new Map<TrackerAnnounceState, AbortController>();
  private cancelTimer: CancelTimer | undefined;
  private isRunning = false;
  private isStopped = false;

  constructor(private readonly options: TrackerClientOptions) {
    super();
    if (options.infoHash.length !== 20) throw new RangeError('infoHash must be 20 bytes');
    if (options.peerId.length !== 20) throw new RangeError('peerId must be 20 bytes');
    this.scheduler = schedulerFrom(options);
    const tierUrls = options.announceTiers.map((t) => t.filter(isSupportedTrackerUrl));
    this.tiers = new TrackerTiers(tierUrls, options.random ?? mathRandom, {
      ...DEFAULT_SCHEDULE,
      ...options.schedule,
    });
    this.ownsTransport = options.transport === undefined;
    this.transport = options.transport ?? new DefaultTrackerTransport();
    if (options.onPeers) this.on('peers', options.onPeers);
    if (options.onError) this.on('error', options.onError);
    if (options.onWarning) this.on('warning', options.onWarning);
  }

  /** Begin announcing (`started` to the first tracker of each tier). */
  start(): void {
    if (this.isRunning || this.isStopped) return;
    this.isRunning = true;
    this.upkeep();
  }

  /** The download finished: each tracker that saw `started` gets `completed`, once. */
  completed(): void {
    const now = this.scheduler.now();
    for (const t of this.tiers.all()) t.markCompleted(now);
    if (this.isRunning) this.upkeep();
  }

  /** Announce now where the decisions say so, then re-arm the timer. Safe to call anytime. */
  upkeep(): void {
    if (!this.isRunning) return;
    const now = this.scheduler.now();
    for (const t of this.tiers.dueTrackers(now)) void this.announceTo(t);
    this.arm();
  }

  /**
   * Send `stopped` (after `completed`, if still owed) to every tracker that knows us, waiting at most `stopTimeoutMs` in total
   * (so Ctrl-C exits within 2 s). Never rejects.
   */
  async stop(): Promise<void> {
    if (this.isStopped) return;
    this.isStopped = true;
    const wasRunning = this.isRunning;
    this.isRunning = false;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    for (const c of this.inFlight.values()) c.abort();
    // The system scheduler's timers are unref'd: the pending requests' sockets keep the process
    // alive for the wait, and when nothing is pending there is nothing to wait for.
    const deadline = new AbortController();
    const cancelDeadline = this.scheduler.setTimer(this.options.stopTimeoutMs ?? 1500, () =>
      deadline.abort(),
    );
    const targets = wasRunning ? this.tiers.all().filter((t) => t.isStartedSent) : [];
    // A plain `get` finishes and stops at once: a tracker still owed `completed` gets it first
    // (it counts downloads from it), then `stopped`, within the same deadline.
    const stopOne = async (t: TrackerAnnounceState): Promise<void> => {
      if (t.isCompletedPending)
        await this.transport
          .announce(t.url, this.buildRequest(t, 'completed'), deadline.signal)
          .then(() => {
            t.isCompletedPending = false;
            t.isCompletedSent = true;
          })
          .catch(() => {});
      if (deadline.signal.aborted) return;
      await this.transport.announce(t.url, this.buildRequest(t, 'stopped'), deadline.signal);
    };
    await Promise.allSettled(targets.map(stopOne));
    cancelDeadline();
    if (this.ownsTransport) await this.transport.close().catch(() => {});
  }

  /** BEP 48 / BEP 15 scrape of this torrent: the first tracker in tier order that answers. */
  async scrape(
    signal?: AbortSignal,
  ): Promise<{ trackerUrl: string; seeders: number; leechers: number; completed: number } | null> {
    for (const t of this.tiers.representatives()) {
      try {
        const [stats] = await this.transport.scrape(t.url, [this.options.infoHash], signal);
        if (stats)
          return {
            trackerUrl: t.url,
            seeders: stats.complete,
            leechers: stats.incomplete,
            completed: stats.downloaded,
          };
      } catch (err) {
        if (signal?.aborted) return null;
        this.emit('error', t.url, asError(err));
      }
    }
    return null;
  }

  /** A snapshot of every tracker's state (for UIs and the daemon API). */
  trackers(): TrackerSummary[] {
    return this.tiers.tiers.flatMap((tier, i) =>
      tier.map((t) => ({
        url: t.url,
        tier: i,
        isWorking: t.isWorking,
        failures: t.failures,
        lastError: t.lastError?.message,
        nextAnnounceAtMs: t.dueAtMs(),
        seeders: t.seeders,
        leechers: t.leechers,
      })),
    );
  }

  private buildRequest(t: TrackerAnnounceState, event: AnnounceEvent): AnnounceRequest {
    const stats = this.options.getStats();
    return {
      infoHash: this.options.infoHash,
      peerId: this.options.peerId,
      port: this.options.port,
      uploaded: Math.max(0, Math.floor(stats.uploaded)),
      downloaded: Math.max(0, Math.floor(stats.downloaded)),
      left: Math.max(0, Math.floor(stats.left)),
      event,
      numWant: event === 'stopped' ? 0 : (this.options.numWant ?? 50),
      ...(this.options.key === undefined ? {} : { key: this.options.key }),
      ...(t.trackerId === undefined ? {} : { trackerId: t.trackerId }),
    };
  }

  private async announceTo(t: TrackerAnnounceState): Promise<void> {
    const event = t.begin();
    const controller = new AbortController();
    this.inFlight.set(t, controller);
    let isTimedOut = false;
    const cancelTimeout = this.scheduler.setTimer(this.options.announceTimeoutMs ?? 30_000, () => {
      isTimedOut = true;
      controller.abort();
    });
    let res: AnnounceResponse | undefined;
    let failure: Error | undefined;
    try {
      res = await this.transport.announce(t.url, this.buildRequest(t, event), controller.signal);
    } catch (err) {
      failure = isTimedOut
        ? new TrackerError('TRACKER_TIMEOUT', 'announce timed out', { cause: err })
        : asError(err);
    }
    cancelTimeout();
    this.inFlight.delete(t);
    if (!this.isRunning) return;
    const now = this.scheduler.now();
    if (res) {
      t.onSuccess(now, event, res);
      this.tiers.promote(t);
      this.emit('announced', t.url, event, res);
      if (res.warning !== undefined) this.emit('warning', t.url, res.warning);
      if (res.peers.length > 0) this.emit('peers', res.peers, t.url);
    } else {
      t.onFailure(now, failure!);
      this.emit('error', t.url, failure!);
    }
    this.upkeep();
  }

  private arm(): void {
    if (this.options.autoUpkeep === false || !this.isRunning) return;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const next = this.tiers.nextDueAtMs();
    if (next === undefined) return;
    // Exactly at the due time: a timer that fires a little early (event-loop rounding) finds
    // nothing due and re-arms for the remainder.
    this.cancelTimer = this.scheduler.setTimer(next - this.scheduler.now(), () => {
      this.cancelTimer = undefined;
      this.upkeep();
    });
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
