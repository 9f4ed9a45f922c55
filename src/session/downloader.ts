import type { Metainfo } from '../metainfo/types.js';
import type { PeerBook } from '../swarm/peer-book.js';
import type { PiecePicker } from '../swarm/piece-picker.js';
import type { RateMeter } from '../swarm/rate-meter.js';
import { SmartBan } from '../swarm/smart-ban.js';
import type { BlockRef as SwarmBlockRef } from '../swarm/types.js';
import { Bitfield } from '../util/bitfield.js';
import type { CancelTimer, Scheduler } from '../util/clock.js';
import { parseHostPort } from '../util/ip.js';
import type { TokenBucket } from '../util/token-bucket.js';
import { pieceIndex } from '../wire/messages.js';
import { type SessionWarning, warning } from './events.js';
import type { PieceCheck } from './open-storage.js';
import type { PeerLink } from './peer-link.js';
import type { PieceAssembler } from './piece-assembler.js';
import type { PeerEvent } from './torrent-types.js';

/** What the downloader needs to write and check pieces. */
export interface PieceSink {
  writePiece(piece: number, data: Uint8Array): Promise<void>;
}

export interface DownloaderDeps {
  readonly scheduler: Scheduler;
  readonly metainfo: Metainfo;
  readonly picker: PiecePicker;
  readonly peerBook: PeerBook;
  readonly assembler: PieceAssembler;
  readonly storage: PieceSink;
  /** Checks a complete piece against the torrent's hashes (in a worker, which may borrow `data`). */
  readonly verifyPiece: (piece: number, data: Uint8Array) => Promise<PieceCheck>;
  /** The torrent's bucket first, then the session's: a request spends both. */
  readonly buckets: readonly TokenBucket[];
  readonly meter: RateMeter;
  peers(): ReadonlyMap<string, PeerLink>;
  /** True while requests may go out (downloading, not paused or failed). */
  isDownloading(): boolean;
  /** True while results still matter (a piece finishing after stop is dropped). */
  isActive(): boolean;
  /** A piece passed its hash check and is on disk. */
  onPieceVerified(piece: number): void;
  onStorageError(err: Error): void;
  onWarning(w: SessionWarning): void;
  onPeerEvent(event: PeerEvent): void;
}

/** One request slot is a block: 16 KiB. */
const BLOCK_BYTES = 16 * 1024;

/**
 * The download side of a torrent: which blocks to ask which peer for (the picker decides,
 * within each peer's pipeline depth and the download limits), what to do with each block that
 * arrives, and the end of each piece: hash, write, announce, or fail and find out who lied
 * (smart-ban bans a peer only on evidence: its block differs from the good data).
 */
export class Downloader {
  private readonly smartBan = new SmartBan();
  private cancelRetry: CancelTimer | null = null;
  private fullBitfieldCache: Bitfield | null = null;
  /** Payload bytes received (duplicates included), for ratios and trackers. */
  downloadedBytes = 0;

  constructor(private readonly deps: DownloaderDeps) {}

  /** Ask `link` for as many blocks as its pipeline and the limits allow. */
  requestBlocks(link: PeerLink): void {
    if (!this.deps.isDownloading() || !link.amInterested) return;
    if (link.peerChoking && link.allowedFast.size === 0) return;
    let want = link.pipeline.wanted();
    if (want <= 0) return;
    // Refill a deep queue in batches: a picker pass per arriving block costs more than the one
    // request it makes, and with three quarters of the queue still in flight the peer stays busy.
    const outstanding = link.pipeline.outstanding;
    if (outstanding > 0 && want < Math.min(8, Math.ceil((outstanding + want) / 4))) return;
    // Download limit: each request spends its bytes up front, so what we ask for is what arrives.
    const budget = Math.min(...this.deps.buckets.map((b) => b.available()));
    want = Math.min(want, Math.floor(budget / BLOCK_BYTES));
    if (want <= 0) {
      this.retryLater();
      return;
    }
    const peerHas = link.hasAll
      ? this.fullBitfield()
      : (link.bitfield ?? new Bitfield(this.deps.metainfo.pieceCount));
    const blocks = this.deps.picker.pickBlocks(link.id, peerHas, want, {
      isChoked: link.peerChoking,
      allowedFast: link.allowedFast,
      onSteal: (victim, block) => this.cancelAt(victim, block),
    });
    for (const b of blocks) {
      if (!link.channel.request({ piece: pieceIndex(b.piece), offset: b.offset, length: b.length })) {
        this.deps.picker.cancelRequest(link.id, b);
        continue;
      }
      for (const bucket of this.deps.buckets) bucket.charge(b.length);
      link.pipeline.onRequestSent(b);
    }
  }

  /** Requests `link` will not answer any more (choke without BEP 6, timeouts): back to the picker. */
  returnRequests(link: PeerLink, blocks: readonly SwarmBlockRef[]): void {
    for (const b of blocks) this.deps.picker.cancelRequest(link.id, b);
  }

  /** A peer rejected a request (BEP 6). */
  onReject(link: PeerLink, block: SwarmBlockRef): void {
    link.pipeline.onRequestCancelled(block);
    this.deps.picker.cancelRequest(link.id, block);
    this.requestBlocks(link);
  }

  onBlock(link: PeerLink, piece: number, offset: number, data: Uint8Array): void {
    const now = this.deps.scheduler.now();
    const block = { piece: pieceIndex(piece), offset, length: data.length };
    link.pipeline.onBlockReceived(block);
    link.lastBlockAtMs = now;
    link.downloadMeter.add(data.length);
    this.deps.meter.add(data.length);
    this.downloadedBytes += data.length;
    const { picker } = this.deps;
    if (piece >= this.deps.metainfo.pieceCount || picker.hasPiece(piece)) {
      this.requestBlocks(link);
      return;
    }
    const receipt = picker.onBlockReceived(link.id, block);
    for (const c of receipt.cancels) this.cancelAt(c.peer, c.block);
    if (receipt.isNew) {
      // The assembler copies: the wire buffer may be reused.
      this.deps.assembler.addBlock(piece, offset, data).then(
        () => {
          picker.onBlockWritten(block);
          if (receipt.isPieceComplete) void this.completePiece(piece);
        },
        (err: unknown) => this.deps.onStorageError(asError(err)),
      );
    }
    this.requestBlocks(link);
  }

  /** A peer left: its blocks in flight go back to the picker, its smart-ban records go. */
  onPeerLeft(link: PeerLink): void {
    this.deps.picker.onPeerLeft(link.id);
    link.pipeline.clear();
    this.smartBan.forgetPeer(link.id);
  }

  /** The download finished: nothing more to ask anyone for. */
  stopRequesting(): void {
    this.cancelRetry?.();
    this.cancelRetry = null;
  }

  private async completePiece(piece: number): Promise<void> {
    const { assembler } = this.deps;
    try {
      const { ok, data } = await this.deps.verifyPiece(piece, await assembler.pieceData(piece));
      assembler.restore(piece, data);
      if (!this.deps.isActive()) return;
      if (!ok) return this.onPieceFailed(piece, data); // releases the piece itself
      if (assembler.isBuffered(piece)) await this.deps.storage.writePiece(piece, data);
      if (!this.deps.isActive()) return;
      this.onPieceVerified(piece, data);
      assembler.release(piece); // after: the buffer goes back to the pool for reuse
    } catch (err) {
      assembler.release(piece);
      this.deps.onStorageError(asError(err));
    }
  }

  private onPieceVerified(piece: number, data: Uint8Array): void {
    const senders = this.deps.picker.blockSenders(piece);
    this.deps.picker.onPieceVerified(piece);
    for (const verdict of this.smartBan.onPiecePassed(piece, data))
      this.banPeer(verdict.peer, verdict.pieces, verdict.blockOffsets);
    const peers = this.deps.peers();
    for (const s of new Set(senders)) {
      const link = s === undefined ? undefined : peers.get(s);
      if (link) this.deps.peerBook.recordUseful(addressOf(link), data.length);
    }
    this.deps.onPieceVerified(piece);
  }

  private onPieceFailed(piece: number, data: Uint8Array): void {
    const senders = this.deps.picker.blockSenders(piece);
    const culprits = this.deps.picker.onPieceFailed(piece);
    const peers = this.deps.peers();
    for (const id of culprits) {
      const link = peers.get(id);
      if (link) {
        link.corruptPieces++;
        this.deps.peerBook.recordCorrupt(addressOf(link));
      }
    }
    for (const verdict of this.smartBan.onPieceFailed(piece, data, senders)) {
      this.banPeer(verdict.peer, verdict.pieces, verdict.blockOffsets);
    }
    this.deps.onWarning(
      warning('PIECE_HASH_FAILED', `piece ${piece} failed its hash check; re-downloading`, String(piece)),
    );
    for (const link of peers.values()) this.requestBlocks(link);
    this.deps.assembler.release(piece); // last: smart-ban has hashed the blocks
  }

  private banPeer(id: string, pieces: readonly number[], offsets: readonly number[]): void {
    const link = this.deps.peers().get(id);
    const address = link ? addressOf(link) : parseHostPort(id);
    if (!address) return;
    const detail = `sent corrupt data in piece(s) ${pieces.join(',')} at block offsets ${offsets.join(',')}`;
    this.deps.peerBook.ban(address, {
      reason: 'corrupt-data',
      atMs: this.deps.scheduler.now(),
      pieces,
      detail,
    });
    link?.channel.close(`banned: ${detail}`);
    this.deps.onPeerEvent({ kind: 'banned', address: id, reason: detail });
  }

  /** The download limit is spent: ask again when a block's worth of tokens is back (one timer per torrent). */
  private retryLater(): void {
    if (this.cancelRetry) return;
    const waitMs = Math.max(1, ...this.deps.buckets.map((b) => b.waitFor(BLOCK_BYTES)));
    this.cancelRetry = this.deps.scheduler.setTimer(waitMs, () => {
      this.cancelRetry = null;
      for (const link of this.deps.peers().values()) this.requestBlocks(link);
    });
  }

  /** Withdraw a request from a peer (endgame duplicate arrived elsewhere, or the block was stolen). */
  private cancelAt(peer: string, block: SwarmBlockRef): void {
    const other = this.deps.peers().get(peer);
    if (!other) return;
    other.pipeline.onRequestCancelled(block);
    other.channel.cancel({ piece: pieceIndex(block.piece), offset: block.offset, length: block.length });
  }

  private fullBitfield(): Bitfield {
    this.fullBitfieldCache ??= Bitfield.full(this.deps.metainfo.pieceCount);
    return this.fullBitfieldCache;
  }
}

function addressOf(link: PeerLink): { host: string; port: number } {
  return { host: link.channel.remoteHost, port: link.channel.remotePort };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
