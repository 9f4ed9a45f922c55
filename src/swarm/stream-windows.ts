/**
 * Streaming windows (libtorrent's `set_piece_deadline`, anacrolix's reader readahead): each
 * reader — an HTTP range response, a media player — names the pieces it needs next, from its
 * read position to the end of its readahead. Those pieces are the picker's *deadline pieces*:
 * picked before every other piece, in reading order, spread over several peers, and their slow
 * blocks may be asked of a second peer. Pure: readers are ids, nothing here reads the time.
 *
 * Urgency across readers: the k-th piece of every window comes before the (k+1)-th piece of any
 * window, so two players seeking at once each get their next piece early.
 */
import type { PieceRange } from './types.js';

export class StreamWindows {
  private readonly windows = new Map<string, PieceRange>();
  private ordered: number[] | null = [];
  private members: Set<number> = new Set();

  /** Number of readers with a window. */
  get size(): number {
    return this.windows.size;
  }

  /** Reader `id` now needs pieces `[firstPiece, endPiece)` (replaces its previous window). */
  set(id: string, range: PieceRange): void {
    const old = this.windows.get(id);
    if (old && old.firstPiece === range.firstPiece && old.endPiece === range.endPiece) return;
    if (range.endPiece <= range.firstPiece) this.windows.delete(id);
    else this.windows.set(id, { firstPiece: range.firstPiece, endPiece: range.endPiece });
    this.ordered = null;
  }

  /** Reader `id` went away: its deadlines are gone. */
  clear(id: string): void {
    if (this.windows.delete(id)) this.ordered = null;
  }

  /** The window of reader `id`, if it has one. */
  get(id: string): PieceRange | undefined {
    return this.windows.get(id);
  }

  /** Every window's pieces, most urgent first, each piece once (cached until a window changes). */
  pieces(): readonly number[] {
    if (this.ordered) return this.ordered;
    const out: number[] = [];
    const seen = new Set<number>();
    const spans = [...this.windows.values()];
    const longest = Math.max(0, ...spans.map((w) => w.endPiece - w.firstPiece));
    for (let rank = 0; rank < longest; rank++) {
      for (const w of spans) {
        const piece = w.firstPiece + rank;
        if (piece >= w.endPiece || seen.has(piece)) continue;
        seen.add(piece);
        out.push(piece);
      }
    }
    this.ordered = out;
    this.members = seen;
    return out;
  }

  /** True when some window holds `piece`. */
  has(piece: number): boolean {
    this.pieces();
    return this.members.has(piece);
  }
}

/** Smoothing of the block round trip (1/8, TCP's SRTT gain). */
const RTT_GAIN = 1 / 8;
/** Before any block arrived: a guess in the range of a loaded pipeline on a home link. */
const INITIAL_RTT_MS = 500;
/** A deadline block is "slow" once requested this many round trips ago… */
const SLOW_FACTOR = 2;
/** …and never sooner than this (one peer's normal jitter is not slowness). */
const MIN_SLOW_MS = 250;

/**
 * How long a block usually takes from request to arrival, over all peers (queueing at the
 * peer included): the yardstick for "this deadline block is late at its peer".
 */
export class BlockRoundTrip {
  private smoothedMs = INITIAL_RTT_MS;

  /** A block requested `elapsedMs` ago arrived. */
  add(elapsedMs: number): void {
    if (!(elapsedMs >= 0)) return;
    this.smoothedMs += (elapsedMs - this.smoothedMs) * RTT_GAIN;
  }

  get estimateMs(): number {
    return this.smoothedMs;
  }

  /** Age after which a deadline block may be requested from a second peer. */
  slowAfterMs(): number {
    return Math.max(MIN_SLOW_MS, SLOW_FACTOR * this.smoothedMs);
  }
}
