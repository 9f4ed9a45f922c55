/**
 * The one async interface between a torrent and its data (libtorrent's `disk_interface`,
 * anacrolix's `storage`). Backends: `fs-storage.ts` (files on disk) and `memory-storage.ts`
 * (tests, simulations); both pass `storage.conformance.ts`.
 *
 * Semantics every backend keeps:
 *  - Coordinates are (piece, offset, length) in the linear piece space; a range must lie
 *    inside its piece (`STORAGE_OUT_OF_RANGE` otherwise). Blocks are 16 KiB by convention,
 *    but any in-piece range works.
 *  - Bytes never written read back as zeros. BEP 47 padding files never reach the backing
 *    store: writes to them are dropped, reads return zeros.
 *  - Files with priority 0 ("skip") are not created. Bytes of a skipped file that arrive
 *    because a piece straddles it and a wanted file are kept aside (the fs backend's parts
 *    file) so the piece still reads back whole; when the file becomes wanted they move into
 *    it. A skipped file that already exists is used as it is.
 *  - Environment failures reject with a `StorageError` (`STORAGE_DISK_FULL`, ...). A write
 *    that rejected may have written part of its range: the piece must be re-verified, never
 *    marked complete.
 */
import type { FileMap, FileSegment } from '../metainfo/file-map.js';
import { StorageError } from './errors.js';

/** What a backend needs from a torrent (a `Metainfo` satisfies it). */
export interface StorageLayout {
  readonly files: readonly StorageFile[];
  readonly pieceLengthBytes: number;
  /** Length of the linear piece space, padding included. */
  readonly storageLengthBytes: number;
}

export interface StorageFile {
  /** Path components relative to the download folder (validated by the safe-path rules). */
  readonly path: readonly string[];
  readonly lengthBytes: number;
  readonly offsetBytes: number;
  readonly attributes: { readonly isPadding: boolean };
}

/** libtorrent's scale: 0 = do not download, 1..7 = low..high. Storage only distinguishes 0. */
export type FilePriority = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

export interface StoredFileStat {
  /** False for padding files, skipped files never created, and files not yet written. */
  readonly exists: boolean;
  readonly sizeBytes: number;
  /** Modification time in whole milliseconds (0 when absent). */
  readonly mtimeMs: number;
}

export interface Storage {
  readonly fileMap: FileMap;
  readBlock(piece: number, offset: number, length: number): Promise<Uint8Array>;
  writeBlock(piece: number, offset: number, data: Uint8Array): Promise<void>;
  readPiece(piece: number): Promise<Uint8Array>;
  /** SHA-1 (v1) of the piece as stored now. */
  hashPiece(piece: number): Promise<Uint8Array>;
  /** True when the stored piece hashes (SHA-1) to `expected`. */
  verifyPiece(piece: number, expected: Uint8Array): Promise<boolean>;
  setFilePriority(fileIndex: number, priority: FilePriority): Promise<void>;
  filePriority(fileIndex: number): FilePriority;
  /** What exists in the backing store, one entry per file in torrent order. */
  stat(): Promise<StoredFileStat[]>;
  /** Make written data durable (fsync for fs). */
  flush(): Promise<void>;
  /**
   * Flush and release resources; later calls reject with `STORAGE_CLOSED`. `sync: false`
   * skips the fsync (written data stays in the page cache and survives a process exit or
   * `kill -9`, not a power loss) so that closing a large download does not stall shutdown.
   */
  close(options?: { readonly sync?: boolean }): Promise<void>;
}

/**
 * The file segments a range touches, each with its slice of `buffer` (the range's bytes, to
 * read into or write from): the walk every backend does for reads and writes.
 */
export function segmentSlices(
  map: FileMap,
  piece: number,
  offset: number,
  buffer: Uint8Array,
): { readonly segment: FileSegment; readonly bytes: Uint8Array }[] {
  let at = 0;
  return segmentsOrThrow(map, piece, offset, buffer.length).map((segment) => {
    const bytes = buffer.subarray(at, at + segment.length);
    at += segment.length;
    return { segment, bytes };
  });
}

/** Map a range to file segments, turning bad coordinates into `STORAGE_OUT_OF_RANGE`. */
export function segmentsOrThrow(map: FileMap, piece: number, offset: number, length: number): FileSegment[] {
  try {
    return map.segmentsForRange(piece, offset, length);
  } catch (err) {
    throw new StorageError('STORAGE_OUT_OF_RANGE', (err as Error).message);
  }
}

/** Piece length, turning a bad index into `STORAGE_OUT_OF_RANGE`. */
export function pieceLengthOrThrow(map: FileMap, piece: number): number {
  try {
    return map.pieceLength(piece);
  } catch (err) {
    throw new StorageError('STORAGE_OUT_OF_RANGE', (err as Error).message);
  }
}

export function checkFileIndex(map: FileMap, fileIndex: number): void {
  if (!Number.isInteger(fileIndex) || fileIndex < 0 || fileIndex >= map.fileCount) {
    throw new StorageError('STORAGE_OUT_OF_RANGE', `file ${fileIndex} out of range [0, ${map.fileCount})`);
  }
}

export function checkPriority(priority: number): asserts priority is FilePriority {
  if (!Number.isInteger(priority) || priority < 0 || priority > 7) {
    throw new RangeError(`file priority must be 0..7, got ${priority}`);
  }
}

/**
 * The pieces whose bytes a skipped file may hold in the parts store: the first and last
 * piece of its range (those it shares with neighbours). The piece picker never requests a
 * piece lying wholly inside skipped files.
 */
export function boundaryPieces(map: FileMap, fileIndex: number): number[] {
  const { first, endExclusive } = map.pieceRangeForFile(fileIndex);
  if (endExclusive === first) return [];
  return endExclusive - 1 === first ? [first] : [first, endExclusive - 1];
}
