import { type ChokerSettings, chooseUnchoked } from '../swarm/choker.js';
import type { RateMeter } from '../swarm/rate-meter.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import type { TokenBucket } from '../util/token-bucket.js';
import type { BlockRef } from '../wire/messages.js';
import type { PeerLink } from './peer-link.js';

/** BEP 3: re-run the choker every 10 seconds (and at once when a slot frees up). */
const CHOKE_INTERVAL_MS = 10_000;
/** Block reads in flight per peer. */
const MAX_READS_IN_FLIGHT = 16;

export interface UploaderDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly settings: ChokerSettings;
  /** The torrent's bucket first, then the session's: a block waits for both. */
  readonly buckets: readonly TokenBucket[];
  readonly meter: RateMeter;
  readBlock(piece: number, offset: number, length: number): Promise<Uint8Array>;
  /** Is `link` still one of the torrent's peers? */
  isAttached(link: PeerLink): boolean;
  isSeeding(): boolean;
  hasPiece(piece: number): boolean;
  pieceLength(piece: number): number;
  onUploaded(bytes: number): void;
  onStorageError(err: unknown): void;
}

/**
 * The upload side of a torrent: who is unchoked (the pure choker decides), which requests
 * are served, in what order, within the upload limits and the sockets' backpressure.
 */
export class Uploader {
  private optimistic: string | null = null;
  private optimisticSinceMs = 0;
  private lastChokeMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: UploaderDeps) {}

  /** Re-run the choker at the next opportunity (a peer left or became interested). */
  invalidate(): void {
    this.lastChokeMs = Number.NEGATIVE_INFINITY;
  }

  onRequest(link: PeerLink, m: BlockRef): void {
    const valid =
      m.length > 0 &&
      m.length <= 16384 &&
      m.offset + m.length <= this.deps.pieceLength(m.piece) &&
      this.deps.hasPiece(m.piece);
    if (!valid || link.amChoking) {
      // BEP 6: a peer with the fast extension is told; others are ignored (BEP 3 drops them).
      link.channel.rejectRequest(m);
      return;
    }
    link.uploadQueue.push(m);
    this.pump(link);
  }

  onCancel(link: PeerLink, m: BlockRef): void {
    const i = link.uploadQueue.findIndex(
      (b) => b.piece === m.piece && b.offset === m.offset && b.length === m.length,
    );
    if (i >= 0) link.uploadQueue.splice(i, 1);
  }

  /**
   * Serve queued requests while the socket is writable and the upload limits allow. Several
   * reads per peer run at once (blocks may go out in any order), so a fast peer is not held to
   * one disk round trip per block.
   */
  pump(link: PeerLink): void {
    while (link.uploadsInFlight < MAX_READS_IN_FLIGHT && !link.isUploadWaiting) {
      const next = link.uploadQueue[0];
      if (!next || !link.channel.isWritable || link.amChoking) return;
      const waitMs = Math.max(0, ...this.deps.buckets.map((b) => b.waitFor(next.length)));
      if (waitMs > 0) {
        link.isUploadWaiting = true;
        setTimeout(() => {
          link.isUploadWaiting = false;
          this.pump(link);
        }, waitMs).unref();
        return;
      }
      link.uploadQueue.shift();
      link.uploadsInFlight++;
      for (const b of this.deps.buckets) b.charge(next.length);
      this.deps.readBlock(next.piece, next.offset, next.length).then(
        (data) => {
          link.uploadsInFlight--;
          if (!this.deps.isAttached(link) || link.amChoking) return;
          if (link.channel.sendPiece(next.piece, next.offset, data)) {
            link.uploadMeter.add(data.length);
            this.deps.meter.add(data.length);
            this.deps.onUploaded(data.length);
          }
          this.pump(link);
        },
        (err: unknown) => {
          link.uploadsInFlight--;
          this.deps.onStorageError(err);
        },
      );
    }
  }

  /** Run the choker if its interval passed (or it was invalidated), and apply its decision. */
  maybeRechoke(links: readonly PeerLink[]): void {
    const now = this.deps.clock.now();
    if (now - this.lastChokeMs < CHOKE_INTERVAL_MS) return;
    this.lastChokeMs = now;
    const decision = chooseUnchoked(
      links.map((l) => ({
        id: l.id,
        isInterested: l.peerInterested,
        amInterested: l.amInterested,
        downloadRate: l.downloadMeter.rate(),
        uploadRate: l.uploadMeter.rate(),
        connectedAtMs: l.connectedAtMs,
        lastBlockAtMs: l.lastBlockAtMs,
        unchokedSinceMs: l.unchokedSinceMs,
        lastUnchokeEndedMs: l.lastUnchokeEndedMs,
      })),
      { ...this.deps.settings, isSeeding: this.deps.isSeeding() },
      {
        nowMs: now,
        random: this.deps.random,
        optimistic: this.optimistic,
        optimisticSinceMs: this.optimisticSinceMs,
      },
    );
    this.optimistic = decision.optimistic;
    this.optimisticSinceMs = decision.optimisticSinceMs;
    for (const link of links) {
      const unchoke = decision.unchoke.has(link.id);
      if (unchoke && link.amChoking) {
        link.amChoking = false;
        link.unchokedSinceMs = now;
        link.channel.unchoke();
      } else if (!unchoke && !link.amChoking) {
        link.amChoking = true;
        link.unchokedSinceMs = null;
        link.lastUnchokeEndedMs = now;
        link.channel.choke(); // the wire layer rejects (fast) or drops the peer's pending requests
        link.uploadQueue.length = 0;
      }
    }
  }
}
