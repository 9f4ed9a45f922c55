/** Shared vocabulary of the swarm policy layer. Peers are opaque ids; no sockets here. */

/** A peer as the swarm layer knows it: any stable id the session chooses (e.g. `ip:port`). */
export type PeerId = string;

/** BEP 3: the request unit. Every block is 16 KiB except possibly the last of the torrent. */
export { BLOCK_LENGTH } from '../wire/limits.js';

/** One request: `length` bytes of `piece` starting at `offset`. */
export interface BlockRef {
  readonly piece: number;
  readonly offset: number;
  readonly length: number;
}

/** Pieces `[firstPiece, endPiece)` that a file touches (empty when `endPiece <= firstPiece`). */
export interface PieceRange {
  readonly firstPiece: number;
  readonly endPiece: number;
}
