import type { BlockRef, PieceIndex } from './messages.js';

/**
 * A set of blocks keyed by (piece, offset), in insertion order. Keys are numbers
 * `piece * 2^32 + offset` while exact (piece < 2^21), strings beyond, so the common case
 * allocates no key strings.
 */
export class BlockSet {
  private readonly map = new Map<number | string, BlockRef>();

  get size(): number {
    return this.map.size;
  }

  has(piece: number, offset: number): boolean {
    return this.map.has(key(piece, offset));
  }

  /** Add; false if a block with this piece and offset is already present. */
  add(block: BlockRef): boolean {
    const k = key(block.piece, block.offset);
    if (this.map.has(k)) return false;
    this.map.set(k, { piece: block.piece as PieceIndex, offset: block.offset, length: block.length });
    return true;
  }

  /** Remove and return the block, or undefined. */
  take(piece: number, offset: number): BlockRef | undefined {
    const k = key(piece, offset);
    const b = this.map.get(k);
    if (b !== undefined) this.map.delete(k);
    return b;
  }

  delete(piece: number, offset: number): boolean {
    return this.map.delete(key(piece, offset));
  }

  deleteOldest(): void {
    for (const k of this.map.keys()) {
      this.map.delete(k);
      return;
    }
  }

  clear(): void {
    this.map.clear();
  }

  /** A snapshot, so callers may delete while iterating. */
  values(): BlockRef[] {
    return [...this.map.values()];
  }
}

const EXACT_PIECE_LIMIT = 2 ** 21;

function key(piece: number, offset: number): number | string {
  return piece < EXACT_PIECE_LIMIT ? piece * 4294967296 + offset : `${piece}:${offset}`;
}
