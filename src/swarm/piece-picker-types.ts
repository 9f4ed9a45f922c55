/** The piece picker's vocabulary: options, results, and the per-piece block state it keeps. */
import type { Bitfield } from '../util/bitfield.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import { BLOCK_LENGTH, type BlockRef, type PeerId, type PieceRange } from './types.js';

/** Highest piece/file priority; 0 means "do not download". */
export const MAX_PRIORITY = 7;
/** Priority given to every file unless told otherwise (libtorrent's default). */
export const DEFAULT_PRIORITY = 4;

/** Block states inside a partial piece. */
export enum BlockState {
  Free = 0,
  Requested = 1,
  Received = 2,
  Written = 3,
}

export interface PartialPiece {
  readonly piece: number;
  readonly state: Uint8Array;
  /** Peers with an outstanding request per block (more than one only in endgame or for deadlines). */
  readonly requesters: (PeerId[] | undefined)[];
  /** Who delivered each received block (for smart-ban). */
  readonly senders: (PeerId | undefined)[];
  /** When each block was last given to a peer (the picker's clock), to find slow deadline blocks. */
  readonly requestedAtMs: Float64Array;
  free: number;
  done: number;
}

export interface PiecePickerOptions {
  readonly pieceCount: number;
  readonly pieceLengthBytes: number;
  /** Length of the linear piece space (sets the short last piece). */
  readonly totalLengthBytes: number;
  /** Tie-breaks among equally rare pieces. */
  readonly random: Random;
  /** Pieces we already have (copied). */
  readonly have?: Bitfield;
  /** Piece ranges per file, in file order, for `setFilePriorities`. */
  readonly files?: readonly PieceRange[];
  /** In endgame, at most this many peers may have the same block requested (default 2). */
  readonly endgameMaxRequesters?: number;
  /**
   * Time for the age of requests: a deadline (streaming) block older than twice the usual
   * block round trip may be requested from a second peer. Without a clock, never.
   */
  readonly clock?: Clock;
}

export interface PickOptions {
  /** The peer chokes us: only allowed-fast pieces (BEP 6) may be requested. */
  readonly isChoked?: boolean;
  /** BEP 6 allowed-fast pieces the peer granted us. */
  readonly allowedFast?: ReadonlySet<number>;
  /**
   * Request stealing: when nothing is free for this peer (outside endgame), move the newest
   * requests of the peer with the deepest queue to this one. Each move is reported here so the
   * caller cancels it at the victim. Without it, one duplicate ("busy") block is picked instead.
   */
  readonly onSteal?: (victim: PeerId, block: BlockRef) => void;
}

/** What happened when a block arrived. */
export interface BlockReceipt {
  /** False for a duplicate or an unknown block (already have it, or no such piece state). */
  readonly isNew: boolean;
  /** Every block of the piece has now arrived; hash it. */
  readonly isPieceComplete: boolean;
  /** Duplicates to cancel (endgame, deadline pieces): other peers that still have this block requested. */
  readonly cancels: readonly { readonly peer: PeerId; readonly block: BlockRef }[];
}

export function checkPriority(prio: number): void {
  if (!Number.isInteger(prio) || prio < 0 || prio > MAX_PRIORITY) throw new RangeError(`priority ${prio}`);
}

export function must(cond: boolean, what: string): asserts cond {
  if (!cond) throw new Error(`piece picker invariant broken: ${what}`);
}

/** Piece and block sizes of a torrent's linear piece space, and block keys (`piece × blocks + block`). */
export class BlockGeometry {
  readonly blocksPerPiece: number;

  constructor(
    readonly pieceCount: number,
    readonly pieceLengthBytes: number,
    readonly totalLengthBytes: number,
  ) {
    this.blocksPerPiece = Math.ceil(pieceLengthBytes / BLOCK_LENGTH);
  }

  pieceLength(piece: number): number {
    return Math.min(this.pieceLengthBytes, this.totalLengthBytes - piece * this.pieceLengthBytes);
  }

  blockCount(piece: number): number {
    if (piece < 0 || piece >= this.pieceCount) return 0;
    return Math.ceil(this.pieceLength(piece) / BLOCK_LENGTH);
  }

  blockRef(piece: number, b: number): BlockRef {
    const offset = b * BLOCK_LENGTH;
    return { piece, offset, length: Math.min(BLOCK_LENGTH, this.pieceLength(piece) - offset) };
  }

  key(piece: number, b: number): number {
    return piece * this.blocksPerPiece + b;
  }

  blockOfKey(key: number): BlockRef {
    return this.blockRef(Math.floor(key / this.blocksPerPiece), key % this.blocksPerPiece);
  }
}
