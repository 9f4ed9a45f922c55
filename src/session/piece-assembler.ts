/**
 * Collects the blocks of pieces being downloaded until they can be hashed.
 *
 * Blocks of a piece are kept in one memory buffer while the total of such buffers stays
 * within `budgetBytes`: the piece is then hashed from memory and written with one large
 * write. A piece started when the budget is spent is "spilled": its blocks go to storage as
 * they arrive and the piece is read back for hashing. So memory stays bounded however many
 * pieces are in flight (endgame, many peers), and the common case does no read-back.
 */
export interface BlockStore {
  writeBlock(piece: number, offset: number, data: Uint8Array): Promise<void>;
  readPiece(piece: number): Promise<Uint8Array>;
}

export class PieceAssembler {
  private readonly buffers = new Map<number, Uint8Array>();
  /**
   * Released buffers for reuse, by length: reuse spares the allocator and the page faults of
   * fresh memory. Plain (not shared) memory: a hash worker borrows a whole piece buffer by
   * transfer and gives it back ({@link restore}); copies into shared memory are V8's slow
   * element-wise kind, and posting shared memory costs more than a transfer.
   */
  private readonly free = new Map<number, Uint8Array[]>();
  private readonly spilled = new Set<number>();
  /** Block writes still in flight, per spilled piece. */
  private readonly writes = new Map<number, Set<Promise<void>>>();
  private bufferedBytes = 0;

  constructor(
    private readonly store: BlockStore,
    private readonly pieceLength: (piece: number) => number,
    private readonly budgetBytes: number,
  ) {}

  /** Bytes held in memory now. */
  get memoryBytes(): number {
    return this.bufferedBytes;
  }

  /** Store one block; resolves when it is safe (in memory, or written for a spilled piece). */
  async addBlock(piece: number, offset: number, data: Uint8Array): Promise<void> {
    let buf = this.buffers.get(piece);
    if (!buf && !this.spilled.has(piece)) {
      const length = this.pieceLength(piece);
      if (this.bufferedBytes + length <= this.budgetBytes || this.buffers.size === 0) {
        buf = this.free.get(length)?.pop() ?? new Uint8Array(length);
        this.buffers.set(piece, buf);
        this.bufferedBytes += length;
      } else {
        this.spilled.add(piece);
      }
    }
    if (buf) {
      if (offset + data.length > buf.length) throw new RangeError(`block beyond piece ${piece}`);
      buf.set(data, offset);
      return;
    }
    // Copy: `data` is a view into a 64 KiB socket chunk; a pending write must not pin the chunk.
    const write = this.store.writeBlock(piece, offset, data.slice());
    const pending = this.writes.get(piece) ?? new Set<Promise<void>>();
    this.writes.set(piece, pending);
    pending.add(write);
    try {
      await write;
    } finally {
      pending.delete(write);
    }
  }

  /** Whether the piece's data still has to be written after it verifies. */
  isBuffered(piece: number): boolean {
    return this.buffers.has(piece);
  }

  /** The whole piece for hashing (the buffer itself, or read back from storage). */
  async pieceData(piece: number): Promise<Uint8Array> {
    const buf = this.buffers.get(piece);
    if (buf) return buf;
    // A spilled piece completes when its last block arrives, but writes of earlier blocks may
    // still be in flight: read it back only after every one of them has landed.
    const pending = this.writes.get(piece);
    if (pending) await Promise.allSettled([...pending]);
    this.writes.delete(piece);
    return this.store.readPiece(piece);
  }

  /**
   * The piece's memory is back from a hash worker as `data` (the buffer given out by
   * {@link pieceData} was detached meanwhile): keep it for the write and for reuse.
   */
  restore(piece: number, data: Uint8Array): void {
    if (this.buffers.has(piece)) this.buffers.set(piece, data);
  }

  /** Forget a piece (written, failed, or the torrent stopped). */
  release(piece: number): void {
    const buf = this.buffers.get(piece);
    if (buf) {
      // By the piece's length: a buffer still lent to a worker (its failure) reads as empty.
      this.bufferedBytes -= this.pieceLength(piece);
      this.buffers.delete(piece);
      if (buf.length === 0) return;
      const list = this.free.get(buf.length) ?? [];
      // Keep at most what the budget could hold at once; the rest is garbage.
      if ((list.length + this.buffers.size) * buf.length < this.budgetBytes) list.push(buf);
      this.free.set(buf.length, list);
    }
    this.spilled.delete(piece);
    this.writes.delete(piece);
  }

  releaseAll(): void {
    this.buffers.clear();
    this.free.clear();
    this.spilled.clear();
    this.bufferedBytes = 0;
  }
}
