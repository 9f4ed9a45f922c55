/**
 * The mapping between a torrent's linear piece space (BEP 3: files concatenated in torrent
 * order, BEP 47 padding files included) and byte ranges of its files. Pure: no I/O. Storage
 * backends, hashing and the piece picker's per-file priorities all go through this one map.
 *
 * Invariants checked at construction: files are contiguous (each file starts where the
 * previous one ends) and together cover exactly `totalLengthBytes`.
 */

/** BEP 3: the request unit. Every piece is split into 16 KiB blocks (the last may be short). */
export const BLOCK_LENGTH_BYTES = 16 * 1024;

/** What the map needs to know about a file (a subset of `TorrentFileEntry`). */
export interface FileSpan {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

/** A contiguous byte range inside one file. */
export interface FileSegment {
  readonly fileIndex: number;
  /** Offset inside the file. */
  readonly fileOffset: number;
  readonly length: number;
}

/** A half-open range of piece indices `[first, endExclusive)`. */
export interface PieceRange {
  readonly first: number;
  readonly endExclusive: number;
}

export interface FileMapInput {
  readonly files: readonly FileSpan[];
  readonly pieceLengthBytes: number;
  /** Length of the linear piece space, padding included (`Metainfo.storageLengthBytes`). */
  readonly totalLengthBytes: number;
}

/** Maps pieces and blocks to file segments and files to piece ranges. */
export class FileMap {
  readonly pieceLengthBytes: number;
  readonly totalLengthBytes: number;
  readonly pieceCount: number;
  readonly fileCount: number;
  private readonly offsets: Float64Array;
  private readonly lengths: Float64Array;

  constructor(input: FileMapInput) {
    const { files, pieceLengthBytes, totalLengthBytes } = input;
    if (!Number.isSafeInteger(pieceLengthBytes) || pieceLengthBytes <= 0) {
      throw new RangeError(`piece length must be a positive integer, got ${pieceLengthBytes}`);
    }
    if (!Number.isSafeInteger(totalLengthBytes) || totalLengthBytes < 0) {
      throw new RangeError(`total length must be a non-negative integer, got ${totalLengthBytes}`);
    }
    this.pieceLengthBytes = pieceLengthBytes;
    this.totalLengthBytes = totalLengthBytes;
    this.pieceCount = Math.ceil(totalLengthBytes / pieceLengthBytes);
    this.fileCount = files.length;
    this.offsets = new Float64Array(files.length);
    this.lengths = new Float64Array(files.length);
    let expectedOffset = 0;
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      if (!Number.isSafeInteger(f.lengthBytes) || f.lengthBytes < 0 || f.offsetBytes !== expectedOffset) {
        throw new RangeError(
          `file ${i} is not contiguous (offset ${f.offsetBytes}, expected ${expectedOffset})`,
        );
      }
      this.offsets[i] = f.offsetBytes;
      this.lengths[i] = f.lengthBytes;
      expectedOffset += f.lengthBytes;
    }
    if (expectedOffset !== totalLengthBytes) {
      throw new RangeError(`files cover ${expectedOffset} bytes, expected ${totalLengthBytes}`);
    }
  }

  /** Build the map of a parsed torrent (its v1 / linear layout). */
  static fromMetainfo(m: {
    readonly files: readonly FileSpan[];
    readonly pieceLengthBytes: number;
    readonly storageLengthBytes: number;
  }): FileMap {
    return new FileMap({
      files: m.files,
      pieceLengthBytes: m.pieceLengthBytes,
      totalLengthBytes: m.storageLengthBytes,
    });
  }

  /** Length of piece `index`: the piece length, except for a short last piece. */
  pieceLength(index: number): number {
    this.checkPiece(index);
    return Math.min(this.pieceLengthBytes, this.totalLengthBytes - index * this.pieceLengthBytes);
  }

  /** Number of 16 KiB blocks in piece `index`. */
  blockCount(index: number): number {
    return Math.ceil(this.pieceLength(index) / BLOCK_LENGTH_BYTES);
  }

  /** Length of block `block` of piece `index` (the last block of the last piece may be short). */
  blockLength(index: number, block: number): number {
    const count = this.blockCount(index);
    if (!Number.isInteger(block) || block < 0 || block >= count) {
      throw new RangeError(`block ${block} out of range [0, ${count}) in piece ${index}`);
    }
    return Math.min(BLOCK_LENGTH_BYTES, this.pieceLength(index) - block * BLOCK_LENGTH_BYTES);
  }

  /** The file segments that make up piece `index`, in order. Zero-length files never appear. */
  segmentsForPiece(index: number): FileSegment[] {
    return this.segmentsForRange(index, 0, this.pieceLength(index));
  }

  /**
   * The file segments of `length` bytes at `offset` inside piece `index`. The range must lie
   * inside the piece (a block request is checked against its piece, never the whole torrent).
   */
  segmentsForRange(index: number, offset: number, length: number): FileSegment[] {
    const pieceLength = this.pieceLength(index);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`bad range offset ${offset} length ${length}`);
    }
    if (offset + length > pieceLength) {
      throw new RangeError(`range ${offset}+${length} exceeds piece ${index} of ${pieceLength} bytes`);
    }
    const start = index * this.pieceLengthBytes + offset;
    return this.segmentsForSpan(start, start + length);
  }

  /** File segments covering `[start, end)` of the linear space. */
  segmentsForSpan(start: number, end: number): FileSegment[] {
    const out: FileSegment[] = [];
    if (end <= start) return out;
    for (let i = this.fileAt(start); i < this.fileCount; i++) {
      const fileStart = this.offsets[i]!;
      if (fileStart >= end) break;
      const fileEnd = fileStart + this.lengths[i]!;
      // Zero-length files own no bytes; ones sitting on a boundary would yield empty segments.
      if (fileEnd <= start || fileEnd === fileStart) continue;
      const s = Math.max(start, fileStart);
      const e = Math.min(end, fileEnd);
      out.push({ fileIndex: i, fileOffset: s - fileStart, length: e - s });
    }
    return out;
  }

  /**
   * The pieces that hold any byte of file `fileIndex`. A zero-length file covers no piece
   * (`first === endExclusive`).
   */
  pieceRangeForFile(fileIndex: number): PieceRange {
    this.checkFile(fileIndex);
    const start = this.offsets[fileIndex]!;
    const length = this.lengths[fileIndex]!;
    const first = Math.floor(start / this.pieceLengthBytes);
    if (length === 0) return { first, endExclusive: first };
    return { first, endExclusive: Math.ceil((start + length) / this.pieceLengthBytes) };
  }

  /** Offset of file `fileIndex` in the linear space. */
  fileOffset(fileIndex: number): number {
    this.checkFile(fileIndex);
    return this.offsets[fileIndex]!;
  }

  /** Length of file `fileIndex`. */
  fileLength(fileIndex: number): number {
    this.checkFile(fileIndex);
    return this.lengths[fileIndex]!;
  }

  /** Index of the first file whose end is past `position` (binary search; files are sorted). */
  private fileAt(position: number): number {
    let lo = 0;
    let hi = this.fileCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid]! + this.lengths[mid]! <= position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private checkPiece(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      throw new RangeError(`piece ${index} out of range [0, ${this.pieceCount})`);
    }
  }

  private checkFile(fileIndex: number): void {
    if (!Number.isInteger(fileIndex) || fileIndex < 0 || fileIndex >= this.fileCount) {
      throw new RangeError(`file ${fileIndex} out of range [0, ${this.fileCount})`);
    }
  }
}
