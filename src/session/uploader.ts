import { type ChokerSettings, chooseUnchoked } from '../swarm/choker.js';
import type { RateMeter } from '../swarm/rate-meter.js';
import type { Scheduler } from '../util/clock.js';
import type { Random } from '../util/random.js';
import type { TokenBucket } from '../util/token-bucket.js';
import type { BlockRef } from '../wire/messages.js';
import type { PeerLink } from './peer-link.js';

/** BEP 3: re-run the choker every 10 seconds (and at once when a slot frees up). */
const CHOKE_INTERVAL_MS = 10_000;
/**
 * Pieces further down a peer's request queue whose reads start while the head piece is being
 * sent, so the next piece is in memory when the socket wants it (the disk round trip overlaps
 * the network instead of stalling it). Bounded by the read cache's capacity.
 */
const READ_AHEAD_PIECES = 16;
/** ...and at most this many bytes of them (at least one piece), so large pieces stay bounded too. */
const READ_AHEAD_BYTES = 8 * 1024 * 1024;
/**
 * Send-buffer watermark: blocks queued on a connection beyond what it sends in this long sit
 * where a cancel cannot reach them (endgame duplicates, stolen requests are then sent in
 * full). libtorrent sizes the buffer from the upload rate the same way.
 */
const SEND_BUFFER_SECONDS = 0.5;
const MIN_SEND_BUFFER_BYTES = 64 * 1024;
const MAX_SEND_BUFFER_BYTES = 1024 * 1024;
/** Re-check a full send buffer this soon when the rate is not known yet. */
const SEND_BUFFER_RECHECK_MS = 20;
/** Queue entries looked at to find the pieces to read ahead (requests come mostly in piece order). */
const READ_AHEAD_SCAN = 512;

/** Whole pieces in memory for serving blocks: the torrent's {@link ReadCache}. */
export interface PieceSource {
  /** The piece's data if it is in memory now. */
  peek(piece: number): Uint8Array | undefined;
  /** Read the piece (or join the read under way). */
  load(piece: number): Promise<Uint8Array>;
  /** In memory or being read. */
  has(piece: number): boolean;
}

export interface UploaderDeps {
  readonly clock: Scheduler;
  readonly random: Random;
  readonly settings: ChokerSettings;
  /** The torrent's bucket first, then the session's: a block waits for both. */
  readonly buckets: readonly TokenBucket[];
  readonly meter: RateMeter;
  readonly pieces: PieceSource;
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
  /** Peers whose full send buffer was looked at once after a flush (see `pump`). */
  private readonly lookedAfterFlush = new WeakSet<PeerLink>();

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
    const tail = link.uploadQueue[link.uploadQueue.length - 1];
    link.uploadQueue.push(m);
    // A new piece entered the queue: its read may start now (once per piece, not per block).
    if (tail !== undefined && tail.piece !== m.piece) this.readAhead(link);
    this.pump(link);
  }

  onCancel(link: PeerLink, m: BlockRef): void {
    const i = link.uploadQueue.findIndex(
      (b) => b.piece === m.piece && b.offset === m.offset && b.length === m.length,
    );
    if (i >= 0) link.uploadQueue.splice(i, 1);
  }

  /**
   * Serve queued requests while the socket is writable and the upload limits allow. Blocks of
   * pieces in memory go out synchronously (no promise per block); at a piece that is not, the
   * peer waits for its read, and the reads of the next pieces in its queue start alongside.
   * `loaded` is a piece whose read just finished, used even if the cache dropped it since.
   */
  pump(link: PeerLink, loaded?: { readonly piece: number; readonly data: Uint8Array }): void {
    if (link.isUploadReading || link.isUploadWaiting) return;
    for (;;) {
      const next = link.uploadQueue[0];
      if (next === undefined || link.amChoking || !link.channel.isWritable) return;
      const data =
        this.deps.pieces.peek(next.piece) ?? (loaded?.piece === next.piece ? loaded.data : undefined);
      if (data === undefined) {
        this.readPiece(link, next.piece);
        return;
      }
      const queued = link.channel.queuedBytes;
      const watermark = this.sendWatermark(link);
      if (queued >= watermark) {
        // First look again on the next turn: what we queued this turn is handed to the socket
        // in this turn's check phase, and on a fast link the kernel takes it at once (a wait
        // sized by the measured rate would cap the rate at what it measured: a slow ramp).
        // Only if it is still queued then is the peer the bottleneck: come back when about
        // half of it went out (no drain event fires this low).
        const isSecondLook = this.lookedAfterFlush.has(link);
        const rate = link.uploadMeter.rate();
        const drainMs = rate > 0 ? ((queued - watermark / 2) / rate) * 1000 : SEND_BUFFER_RECHECK_MS;
        if (isSecondLook) this.lookedAfterFlush.delete(link);
        else this.lookedAfterFlush.add(link);
        link.isUploadWaiting = true;
        this.deps.clock.setTimer(isSecondLook ? Math.max(2, Math.min(drainMs, 1000)) : 0, () => {
          link.isUploadWaiting = false;
          this.pump(link);
        });
        return;
      }
      this.lookedAfterFlush.delete(link);
      const waitMs = this.tokenWaitMs(next.length);
      if (waitMs > 0) {
        link.isUploadWaiting = true;
        this.deps.clock.setTimer(waitMs, () => {
          link.isUploadWaiting = false;
          this.pump(link);
        });
        return;
      }
      link.uploadQueue.shift();
      for (const b of this.deps.buckets) b.charge(next.length);
      if (next.piece !== link.uploadPiece) {
        link.uploadPiece = next.piece;
        this.readAhead(link);
      }
      const block = data.subarray(next.offset, next.offset + next.length);
      if (link.channel.sendPiece(next.piece, next.offset, block)) {
        link.uploadMeter.add(block.length);
        this.deps.meter.add(block.length);
        this.deps.onUploaded(block.length);
      }
    }
  }

  private sendWatermark(link: PeerLink): number {
    const byRate = link.uploadMeter.rate() * SEND_BUFFER_SECONDS;
    return Math.min(MAX_SEND_BUFFER_BYTES, Math.max(MIN_SEND_BUFFER_BYTES, byRate));
  }

  private tokenWaitMs(bytes: number): number {
    let waitMs = 0;
    for (const b of this.deps.buckets) waitMs = Math.max(waitMs, b.waitFor(bytes));
    return waitMs;
  }

  /** The head of the peer's queue is not in memory: read it (and what follows), then go on. */
  private readPiece(link: PeerLink, piece: number): void {
    link.isUploadReading = true;
    const read = this.deps.pieces.load(piece);
    this.readAhead(link);
    read.then(
      (data) => {
        link.isUploadReading = false;
        if (this.deps.isAttached(link)) this.pump(link, { piece, data });
      },
      (err: unknown) => {
        link.isUploadReading = false;
        this.deps.onStorageError(err);
      },
    );
  }

  /** Start reading the next few distinct pieces in the peer's queue (after the head's). */
  private readAhead(link: PeerLink): void {
    const queue = link.uploadQueue;
    const head = queue[0]?.piece;
    let found = 0;
    let bytes = 0;
    let last = head;
    const end = Math.min(queue.length, READ_AHEAD_SCAN);
    for (let i = 1; i < end && found < READ_AHEAD_PIECES && bytes < READ_AHEAD_BYTES; i++) {
      const piece = queue[i]!.piece;
      if (piece === last || piece === head) continue;
      last = piece;
      found++;
      bytes += this.deps.pieceLength(piece);
      if (!this.deps.pieces.has(piece)) {
        // A failed read surfaces when a peer waits for the piece (then it is read again).
        this.deps.pieces.load(piece).catch(() => {});
      }
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
        link.unchokedSinceMs = now;
        link.channel.unchoke();
      } else if (!unchoke && !link.amChoking) {
        link.unchokedSinceMs = null;
        link.lastUnchokeEndedMs = now;
        link.channel.choke(); // the wire layer rejects (fast) or drops the peer's pending requests
        link.uploadQueue.length = 0;
      }
    }
  }
}
