/**
 * A bounded LRU of whole pieces for serving uploads. Peers request 16 KiB blocks, mostly in
 * order within a piece; reading the piece once and slicing blocks out of memory turns
 * hundreds of small reads into one large one (libtorrent keeps a read cache for the same
 * reason). Concurrent requests for a piece share one read.
 */
export class ReadCache {
  private readonly pieces = new Map<number, Promise<Uint8Array>>();
  private readonly sizes = new Map<number, number>();
  private bytes = 0;

  constructor(
    private readonly readPiece: (piece: number) => Promise<Uint8Array>,
    private readonly pieceLength: (piece: number) => number,
    private readonly capacityBytes: number,
  ) {}

  async readBlock(piece: number, offset: number, length: number): Promise<Uint8Array> {
    let p = this.pieces.get(piece);
    if (p) {
      this.pieces.delete(piece); // refresh LRU position
      this.pieces.set(piece, p);
    } else {
      p = this.readPiece(piece);
      this.insert(piece, p);
      p.catch(() => this.evict(piece));
    }
    const data = await p;
    return data.subarray(offset, offset + length);
  }

  private insert(piece: number, p: Promise<Uint8Array>): void {
    const size = this.pieceLength(piece);
    while (this.bytes + size > this.capacityBytes && this.pieces.size > 0) {
      const oldest = this.pieces.keys().next().value as number;
      this.evict(oldest);
    }
    this.pieces.set(piece, p);
    this.sizes.set(piece, size);
    this.bytes += size;
  }

  private evict(piece: number): void {
    if (!this.pieces.delete(piece)) return;
    this.bytes -= this.sizes.get(piece) ?? 0;
    this.sizes.delete(piece);
  }

  clear(): void {
    this.pieces.clear();
    this.sizes.clear();
    this.bytes = 0;
  }
}
