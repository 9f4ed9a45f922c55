/**
 * A bounded LRU of whole pieces for serving uploads. Peers request 16 KiB blocks, mostly in
 * order within a piece; reading the piece once and slicing blocks out of memory turns
 * hundreds of small reads into one large one (libtorrent keeps a read cache for the same
 * reason). Concurrent requests for a piece share one read.
 *
 * Two ways in: `peek` answers synchronously from a piece already in memory (the uploader's hot
 * path: no promise per block), `load` starts (or joins) the read of a piece, which is also how
 * the uploader reads ahead the pieces further down a peer's request queue.
 */
interface CachedPiece {
  readonly read: Promise<Uint8Array>;
  /** Set once the read resolved. */
  data: Uint8Array | null;
  readonly sizeBytes: number;
}

export class ReadCache {
  /** Insertion order is LRU order (a hit moves the piece to the end). */
  private readonly pieces = new Map<number, CachedPiece>();
  private bytes = 0;

  constructor(
    private readonly readPiece: (piece: number) => Promise<Uint8Array>,
    private readonly pieceLength: (piece: number) => number,
    private readonly capacityBytes: number,
  ) {}

  /** The piece's data if it is in memory now (refreshes its LRU position), else undefined. */
  peek(piece: number): Uint8Array | undefined {
    const entry = this.pieces.get(piece);
    if (entry?.data == null) return undefined;
    this.touch(piece, entry);
    return entry.data;
  }

  /** Whether the piece is in memory or being read. */
  has(piece: number): boolean {
    return this.pieces.has(piece);
  }

  /** Start the piece's read, or join the one under way; resolves with the whole piece. */
  load(piece: number): Promise<Uint8Array> {
    const entry = this.pieces.get(piece);
    if (entry) {
      this.touch(piece, entry);
      return entry.read;
    }
    const read = this.readPiece(piece);
    const created: CachedPiece = { read, data: null, sizeBytes: this.pieceLength(piece) };
    this.insert(piece, created);
    read.then(
      (data) => {
        created.data = data;
      },
      () => {
        if (this.pieces.get(piece) === created) this.evict(piece);
      },
    );
    return read;
  }

  async readBlock(piece: number, offset: number, length: number): Promise<Uint8Array> {
    const data = this.peek(piece) ?? (await this.load(piece));
    return data.subarray(offset, offset + length);
  }

  /** Bytes of the pieces held or being read (never above the capacity, except one oversized piece). */
  get sizeBytes(): number {
    return this.bytes;
  }

  clear(): void {
    this.pieces.clear();
    this.bytes = 0;
  }

  private touch(piece: number, entry: CachedPiece): void {
    this.pieces.delete(piece);
    this.pieces.set(piece, entry);
  }

  private insert(piece: number, entry: CachedPiece): void {
    while (this.bytes + entry.sizeBytes > this.capacityBytes && this.pieces.size > 0) {
      this.evict(this.pieces.keys().next().value as number);
    }
    this.pieces.set(piece, entry);
    this.bytes += entry.sizeBytes;
  }

  private evict(piece: number): void {
    const entry = this.pieces.get(piece);
    if (!entry) return;
    this.pieces.delete(piece);
    this.bytes -= entry.sizeBytes;
  }
}
