import { createHash } from 'node:crypto';
import { bytesEqual } from '../util/bytes.js';
import { BLOCK_LENGTH, type PeerId } from './types.js';

/** A peer proven to have sent corrupt data, with the evidence. */
export interface SmartBanVerdict {
  readonly peer: PeerId;
  readonly reason: 'corrupt-data';
  readonly pieces: readonly number[];
  /** Offsets of the blocks that differed from the good data (or all, for a sole sender). */
  readonly blockOffsets: readonly number[];
  /** `mismatch`: compared with the data that later passed; `sole-sender`: sent the whole piece. */
  readonly proof: 'mismatch' | 'sole-sender';
}

export interface SmartBanOptions {
  /** Remembered failed pieces (oldest dropped first); memory ≈ pieces × blocks × 40 bytes. */
  readonly maxPieces?: number;
  /** Failures of pieces sent entirely by one peer before it is banned without comparison. */
  readonly soleSenderFailures?: number;
  /** Block digest; SHA-1 by default. */
  readonly hash?: (data: Uint8Array) => Uint8Array;
}

interface Sent {
  readonly peer: PeerId;
  readonly digest: Uint8Array;
}

const sha1 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha1').update(data).digest());

/**
 * Find the peer behind a piece that failed its hash check (libtorrent's smart-ban idea).
 *
 * On failure we keep a digest of every 16 KiB block and who sent it. When the piece later
 * passes, each remembered block is compared with the good data: a peer whose block differs
 * sent corrupt data and is banned, with the piece and offsets as evidence. Honest peers
 * that merely shared a piece with a liar are never punished.
 *
 * Shortcut: if one peer sent every block of a failed piece it is the only possible culprit;
 * it is banned after `soleSenderFailures` such pieces (default 1). A higher value tolerates
 * our own rare corruption (bad RAM) at the cost of more wasted bandwidth.
 *
 * Memory is bounded: at most `maxPieces` failed pieces are remembered (FIFO).
 */
export class SmartBan {
  private readonly failed = new Map<number, Map<number, Sent[]>>();
  private readonly soleFailures = new Map<PeerId, number[]>();
  private readonly maxPieces: number;
  private readonly soleSenderFailures: number;
  private readonly hash: (data: Uint8Array) => Uint8Array;

  constructor(options: SmartBanOptions = {}) {
    this.maxPieces = options.maxPieces ?? 256;
    this.soleSenderFailures = options.soleSenderFailures ?? 1;
    this.hash = options.hash ?? sha1;
  }

  /** Pieces currently remembered. */
  get rememberedPieces(): number {
    return this.failed.size;
  }

  /**
   * A piece failed. `pieceData` is what we hashed; `senders[i]` sent block `i` (from
   * `PiecePicker.blockSenders`). Returns an immediate verdict for a sole sender, if due.
   */
  onPieceFailed(
    piece: number,
    pieceData: Uint8Array,
    senders: readonly (PeerId | undefined)[],
  ): SmartBanVerdict[] {
    const blocks = this.failed.get(piece) ?? new Map<number, Sent[]>();
    this.failed.delete(piece);
    this.failed.set(piece, blocks); // most recent last
    senders.forEach((peer, i) => {
      if (peer === undefined) return;
      const offset = i * BLOCK_LENGTH;
      const digest = this.hash(pieceData.subarray(offset, offset + BLOCK_LENGTH));
      const list = blocks.get(offset) ?? [];
      if (!list.some((s) => s.peer === peer && bytesEqual(s.digest, digest))) list.push({ peer, digest });
      blocks.set(offset, list);
    });
    while (this.failed.size > this.maxPieces) {
      const oldest = this.failed.keys().next().value;
      if (oldest === undefined) break;
      this.failed.delete(oldest);
    }
    return this.soleSenderVerdict(piece, senders);
  }

  /** The piece passed: peers whose remembered blocks differ from `goodData` are guilty. */
  onPiecePassed(piece: number, goodData: Uint8Array): SmartBanVerdict[] {
    const blocks = this.failed.get(piece);
    if (!blocks) return [];
    this.failed.delete(piece);
    const bad = new Map<PeerId, number[]>();
    for (const [offset, list] of blocks) {
      const good = this.hash(goodData.subarray(offset, offset + BLOCK_LENGTH));
      for (const s of list) {
        if (bytesEqual(s.digest, good)) continue;
        bad.set(s.peer, [...(bad.get(s.peer) ?? []), offset]);
      }
    }
    return [...bad].map(([peer, offsets]) => ({
      peer,
      reason: 'corrupt-data',
      pieces: [piece],
      blockOffsets: offsets.sort((a, b) => a - b),
      proof: 'mismatch',
    }));
  }

  /** Forget a peer's sole-sender strikes (e.g. after it was banned). */
  forgetPeer(peer: PeerId): void {
    this.soleFailures.delete(peer);
  }

  private soleSenderVerdict(piece: number, senders: readonly (PeerId | undefined)[]): SmartBanVerdict[] {
    const first = senders[0];
    if (first === undefined || !senders.every((s) => s === first)) return [];
    const strikes = [...(this.soleFailures.get(first) ?? []), piece];
    this.soleFailures.set(first, strikes);
    if (strikes.length < this.soleSenderFailures) return [];
    this.soleFailures.delete(first);
    return [
      {
        peer: first,
        reason: 'corrupt-data',
        pieces: strikes,
        blockOffsets: senders.map((_, i) => i * BLOCK_LENGTH),
        proof: 'sole-sender',
      },
    ];
  }
}
