/**
 * A reader's claim on the pieces it needs next (libtorrent's piece deadlines as a streaming
 * app sets them, anacrolix's `Reader` readahead): from the read position to `readaheadBytes`
 * further, within the range it will read, the torrent fetches those pieces before any other,
 * in order. `seek` moves the window (a player seeking, or the reader advancing); `close`
 * releases it. It reads no bytes itself: the caller reads verified data from storage.
 */
import type { PieceRange } from '../swarm/types.js';

/** Readahead unless told otherwise: a few seconds of HD video at typical bitrates. */
export const DEFAULT_READAHEAD_BYTES = 8 * 1024 * 1024;
/** The window always spans at least this many pieces (the one being read and the next). */
const MIN_WINDOW_PIECES = 2;

export interface ReaderOptions {
  /** Where reading starts, in bytes from the file's start (default 0). */
  readonly offsetBytes?: number;
  /** How many bytes will be read from there (default: to the end of the file). */
  readonly lengthBytes?: number;
  /** How far ahead of the read position pieces are fetched first (default 8 MiB, ≥ 2 pieces). */
  readonly readaheadBytes?: number;
}

/** Where a file lies in the torrent's piece space. */
export interface FileSpan {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

/** See the module comment. Made by `TorrentHandle.createReader`. */
export class TorrentReader {
  private positionBytes = 0;
  private endBytes = 0;
  private isClosedNow = false;
  private current: PieceRange = { firstPiece: 0, endPiece: 0 };
  private readonly readaheadBytes: number;

  /** @internal `apply` hands each new window to the engine (an empty one releases it). */
  constructor(
    private readonly file: FileSpan,
    private readonly pieceLengthBytes: number,
    options: ReaderOptions,
    private readonly apply: (window: PieceRange) => void,
  ) {
    this.readaheadBytes = Math.max(
      options.readaheadBytes ?? DEFAULT_READAHEAD_BYTES,
      MIN_WINDOW_PIECES * pieceLengthBytes,
    );
    this.seek(options.offsetBytes ?? 0, options.lengthBytes);
  }

  /** Pieces fetched first now (empty once closed or at the end of the range). */
  get window(): PieceRange {
    return this.current;
  }

  get isClosed(): boolean {
    return this.isClosedNow;
  }

  /**
   * Read from `offsetBytes` of the file on (up to `lengthBytes`, default: the file's end): the
   * window moves there. Moving forward within the range as bytes are read keeps it ahead.
   */
  seek(offsetBytes: number, lengthBytes?: number): void {
    if (this.isClosedNow) return;
    const size = this.file.lengthBytes;
    this.positionBytes = clamp(Math.floor(offsetBytes), 0, size);
    const length = lengthBytes ?? size - this.positionBytes;
    this.endBytes = clamp(this.positionBytes + Math.max(0, Math.floor(length)), this.positionBytes, size);
    this.update();
  }

  /** The reader now stands at `offsetBytes` inside its range (the range's end stays). */
  advanceTo(offsetBytes: number): void {
    if (this.isClosedNow) return;
    this.positionBytes = clamp(Math.floor(offsetBytes), this.positionBytes, this.endBytes);
    this.update();
  }

  /** Release the window: the torrent goes back to its usual order. Idempotent. */
  close(): void {
    if (this.isClosedNow) return;
    this.isClosedNow = true;
    this.current = { firstPiece: 0, endPiece: 0 };
    this.apply(this.current);
  }

  private update(): void {
    const next = this.computeWindow();
    if (next.firstPiece === this.current.firstPiece && next.endPiece === this.current.endPiece) return;
    this.current = next;
    this.apply(next);
  }

  private computeWindow(): PieceRange {
    if (this.positionBytes >= this.endBytes) return { firstPiece: 0, endPiece: 0 };
    const from = this.file.offsetBytes + this.positionBytes;
    const to = this.file.offsetBytes + Math.min(this.endBytes, this.positionBytes + this.readaheadBytes);
    const pl = this.pieceLengthBytes;
    return { firstPiece: Math.floor(from / pl), endPiece: Math.floor((to - 1) / pl) + 1 };
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
