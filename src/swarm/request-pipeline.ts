import type { Clock } from '../util/clock.js';
import { RateMeter } from './rate-meter.js';
import { BLOCK_LENGTH, type BlockRef } from './types.js';

/** Tunables of {@link RequestPipeline}. */
export interface PipelineSettings {
  /** Never keep fewer than this many requests outstanding (unless snubbed). */
  readonly minDepth: number;
  /** Never more than this (the wire layer's per-peer outstanding cap should match). */
  readonly maxDepth: number;
  /** A request unanswered this long is timed out and returned to the picker. */
  readonly requestTimeoutMs: number;
  /** No block for this long while requests are outstanding: the peer is snubbing us. */
  readonly snubTimeoutMs: number;
  /** Headroom over the bandwidth-delay product (2 = keep twice the pipe in flight). */
  readonly bdpGain: number;
  /**
   * Also keep this much time's worth of the peer's measured rate in flight (libtorrent's
   * `request_queue_time`, 3 s there): a peer that serves in bursts (disk reads, a busy event
   * loop, Transmission's batches) shows a small minimum RTT, and a depth from the BDP alone
   * then leaves it idle between bursts.
   */
  readonly queueTimeMs: number;
}

export const DEFAULT_PIPELINE_SETTINGS: PipelineSettings = {
  minDepth: 4,
  maxDepth: 500,
  requestTimeoutMs: 30_000,
  snubTimeoutMs: 60_000,
  bdpGain: 2,
  queueTimeMs: 500,
};

/**
 * How many requests to keep outstanding to one peer, and which have timed out.
 *
 * Depth = clamp(gain × rate × minRtt / 16 KiB, minDepth, maxDepth): the bandwidth-delay
 * product with headroom, measured per peer, so a fast loopback peer gets hundreds of
 * requests in flight and a slow one a handful. `minRtt` (the smallest request→block time in
 * the last 10 s) excludes our own queueing; the queue's latency would make the estimate
 * circular (Little's law: rate × queued latency = current depth).
 *
 * Slow start: a new peer starts at `minDepth` and the depth grows by one per block received
 * while the queue was full (doubling per round trip, like TCP) until the measured rate stops
 * growing by 10 % per second, or a round trip exceeds 2 × minRtt + 20 ms (a queue is building
 * at the peer: HyStart's delay signal). After that, if the queue ever runs dry (the peer answered faster
 * than we asked), the gain is raised by half; it decays back each quiet second.
 */
export class RequestPipeline {
  private readonly settings: PipelineSettings;
  private readonly sent = new Map<string, { block: BlockRef; atMs: number }>();
  private readonly meter: RateMeter;
  private isSlowStart = true;
  private slowStartDepth: number;
  private gain: number;
  private minRttMs = Number.POSITIVE_INFINITY;
  private nextMinRttMs = Number.POSITIVE_INFINITY;
  private minRttEpochMs: number;
  private lastCheckMs: number;
  private lastCheckRate = 0;
  private lastBlockMs: number;
  private snubbed = false;
  /** The peer's advertised `reqq` (BEP 10), when lower than `maxDepth`. */
  private peerLimit = Number.POSITIVE_INFINITY;
  /** The queue reached its target since it last ran dry (so running dry means "too shallow"). */
  private wasFilledToTarget = false;

  constructor(
    private readonly clock: Clock,
    settings: Partial<PipelineSettings> = {},
  ) {
    this.settings = { ...DEFAULT_PIPELINE_SETTINGS, ...settings };
    this.meter = new RateMeter(clock, { windowMs: 4000, slots: 8 });
    this.slowStartDepth = this.settings.minDepth;
    this.gain = this.settings.bdpGain;
    const now = clock.now();
    this.minRttEpochMs = now;
    this.lastCheckMs = now;
    this.lastBlockMs = now;
  }

  /** Requests outstanding now. */
  get outstanding(): number {
    return this.sent.size;
  }

  /** Measured download rate from this peer, bytes/s. */
  downloadRate(): number {
    return this.meter.rate();
  }

  /** True after `snubTimeoutMs` without a block while requests were outstanding. */
  isSnubbed(): boolean {
    return this.snubbed;
  }

  /** The peer accepts at most `reqq` outstanding requests (BEP 10); more would be dropped. */
  setPeerLimit(reqq: number | undefined): void {
    this.peerLimit = reqq !== undefined && reqq >= 1 ? reqq : Number.POSITIVE_INFINITY;
  }

  /** Target number of outstanding requests. A snubbed peer gets one (libtorrent does too). */
  targetDepth(): number {
    const { minDepth, queueTimeMs } = this.settings;
    const maxDepth = Math.min(this.settings.maxDepth, this.peerLimit);
    if (this.snubbed) return 1;
    if (this.isSlowStart) return Math.min(maxDepth, this.slowStartDepth);
    const rate = this.meter.rate();
    const rtt = Number.isFinite(this.minRttMs) ? this.minRttMs : 0;
    const bdpBlocks = (this.gain * rate * rtt) / 1000 / BLOCK_LENGTH;
    const queueBlocks = (rate * queueTimeMs) / 1000 / BLOCK_LENGTH;
    return Math.max(minDepth, Math.min(maxDepth, Math.ceil(Math.max(bdpBlocks, queueBlocks))));
  }

  /** How many more requests to send now. */
  wanted(): number {
    return Math.max(0, this.targetDepth() - this.sent.size);
  }

  onRequestSent(block: BlockRef): void {
    if (this.sent.size === 0) this.lastBlockMs = Math.max(this.lastBlockMs, this.clock.now());
    this.sent.set(keyOf(block), { block, atMs: this.clock.now() });
    if (this.sent.size >= this.targetDepth()) this.wasFilledToTarget = true;
  }

  /** A block arrived. Returns false when it was not outstanding (late or unsolicited). */
  onBlockReceived(block: BlockRef): boolean {
    const now = this.clock.now();
    this.lastBlockMs = now;
    this.snubbed = false;
    this.meter.add(block.length);
    const key = keyOf(block);
    const entry = this.sent.get(key);
    if (!entry) return false;
    const wasFull = this.sent.size >= this.targetDepth();
    this.sent.delete(key);
    const rttMs = now - entry.atMs;
    this.sampleRtt(rttMs, now);
    // HyStart-like exit: round trips grew well past the minimum, so a queue is building at the
    // peer and a deeper pipeline would add latency, not throughput.
    if (this.isSlowStart && rttMs > 2 * this.minRttMs + 20) this.endSlowStart();
    this.adapt(now, wasFull);
    return true;
  }

  /** Forget a request (cancelled, rejected, or the peer choked us). */
  onRequestCancelled(block: BlockRef): void {
    this.sent.delete(keyOf(block));
  }

  /** Drop every outstanding request (choke without the fast extension, disconnect). */
  clear(): BlockRef[] {
    const all = [...this.sent.values()].map((e) => e.block);
    this.sent.clear();
    return all;
  }

  /**
   * Requests older than `requestTimeoutMs` (removed; give them back to the picker), and
   * whether the peer is now snubbing us. Call from a coarse periodic tick.
   */
  expire(): { readonly timedOut: BlockRef[]; readonly isSnubbed: boolean } {
    const now = this.clock.now();
    const timedOut: BlockRef[] = [];
    for (const [key, e] of this.sent) {
      if (now - e.atMs < this.settings.requestTimeoutMs) break; // Map keeps send order
      this.sent.delete(key);
      timedOut.push(e.block);
    }
    if (timedOut.length > 0 && this.isSlowStart) this.endSlowStart();
    if (this.sent.size + timedOut.length > 0 && now - this.lastBlockMs >= this.settings.snubTimeoutMs) {
      this.snubbed = true;
    }
    return { timedOut, isSnubbed: this.snubbed };
  }

  private endSlowStart(): void {
    this.isSlowStart = false;
    const rate = this.meter.rate();
    const rtt = Number.isFinite(this.minRttMs) ? this.minRttMs : 1;
    // Keep what slow start found: set the gain so the BDP target starts near that depth.
    const bdp = (rate * rtt) / 1000 / BLOCK_LENGTH;
    const gain = bdp > 0 ? this.slowStartDepth / bdp : this.gain;
    this.gain = Math.min(64, Math.max(this.settings.bdpGain, gain));
  }

  private sampleRtt(rttMs: number, now: number): void {
    this.minRttMs = Math.min(this.minRttMs, rttMs);
    this.nextMinRttMs = Math.min(this.nextMinRttMs, rttMs);
    if (now - this.minRttEpochMs >= 10_000) {
      // A fresh minimum each 10 s window, so a path that got slower is noticed.
      this.minRttMs = this.nextMinRttMs;
      this.nextMinRttMs = Number.POSITIVE_INFINITY;
      this.minRttEpochMs = now;
    }
  }

  private adapt(now: number, wasFull: boolean): void {
    if (this.isSlowStart && wasFull) this.slowStartDepth++;
    if (this.sent.size === 0) {
      // Ran dry although it had been full: the peer answers faster than we ask.
      if (!this.isSlowStart && this.wasFilledToTarget) this.gain = Math.min(this.gain * 1.5, 64);
      this.wasFilledToTarget = false;
    }
    if (now - this.lastCheckMs < 1000) return;
    const rate = this.meter.rate();
    if (this.isSlowStart && rate < this.lastCheckRate * 1.1) {
      this.endSlowStart();
    } else if (!this.isSlowStart) {
      this.gain = Math.max(this.settings.bdpGain, this.gain * 0.95);
    }
    this.lastCheckRate = rate;
    this.lastCheckMs = now;
  }
}

function keyOf(b: BlockRef): string {
  return `${b.piece}:${b.offset}`;
}
