import { Bitfield } from '../util/bitfield.js';
import { AvailabilityBuckets } from './availability-buckets.js';
import { type DeadlineContext, pickDeadlines } from './deadline-picks.js';
import { assertPickerInvariants } from './piece-picker-invariants.js';
import {
  BlockGeometry,
  type BlockReceipt,
  BlockState,
  checkPriority,
  DEFAULT_PRIORITY,
  MAX_PRIORITY,
  type PartialPiece,
  type PickOptions,
  type PiecePickerOptions,
} from './piece-picker-types.js';
import { BlockRoundTrip, StreamWindows } from './stream-windows.js';
import { BLOCK_LENGTH, type BlockRef, type PeerId, type PieceRange } from './types.js';

export {
  type BlockReceipt,
  DEFAULT_PRIORITY,
  MAX_PRIORITY,
  type PickOptions,
  type PiecePickerOptions,
} from './piece-picker-types.js';

/**
 * Which blocks to request from which peer. A pure data structure (libtorrent piece_picker,
 * Transmission Wishlist): peers are ids, nothing here does I/O. See `NOTES.md`.
 *
 * Order of preference in `pickBlocks`:
 *  1. partial pieces the peer has (highest priority first, then most complete), so started
 *     pieces finish before new ones start;
 *  2. new pieces by priority (7 → 1), then rarest first, random among equally rare
 *     (or lowest index first in sequential mode);
 *  3. endgame: when every wanted block is requested, blocks already requested from other
 *     peers, up to `endgameMaxRequesters` per block;
 *  4. outside endgame, when nothing is free for this peer: steal the newest requests of the
 *     peer with the deepest queue (`onSteal`), or else one "busy" duplicate block, so a peer
 *     that unchoked us is not left idle while its pieces wait in slower peers' queues.
 */
export class PiecePicker {
  readonly pieceCount: number;
  private readonly have: Bitfield;
  private readonly priority: Uint8Array;
  /** Per-piece availability from peers with a bitfield; `seedCount` is added on top. */
  private readonly availability: Int32Array;
  private seedCount = 0;
  private readonly pos: Int32Array;
  /** Wanted (priority > 0, not had) pieces, one bucket structure per priority level. */
  private readonly levels: AvailabilityBuckets[] = [];
  private readonly partials = new Map<number, PartialPiece>();
  private readonly peerBitfields = new Map<PeerId, Bitfield | 'all'>();
  private readonly peerRequests = new Map<PeerId, Set<number>>();
  /** Piece and block sizes, and the block keys of the request index. */
  private readonly geo: BlockGeometry;
  private isSequential = false;
  private readonly endgameMaxRequesters: number;
  /** Streaming readers' windows: their pieces are picked first (see stream-windows.ts). */
  private readonly windows = new StreamWindows();
  private readonly roundTrip = new BlockRoundTrip();
  /** What `pickDeadlines` may see and do (made once; see deadline-picks.ts). */
  private readonly deadlineContext: DeadlineContext = {
    windows: this.windows,
    partials: this.partials,
    peerRequests: this.peerRequests,
    peerBitfields: this.peerBitfields,
    slowAfterMs: () => (this.opts.clock ? this.roundTrip.slowAfterMs() : null),
    now: () => this.now(),
    isWanted: (piece) => this.isWanted(piece),
    startPiece: (piece) => this.startPiece(piece),
    takeFree: (pp, peer, count, out) => this.takeFree(pp, peer, count, out),
    addRequester: (pp, b, peer, out) => {
      const who = pp.requesters[b];
      if (!who || who.length >= this.endgameMaxRequesters || who.includes(peer)) return;
      who.push(peer);
      this.addPeerRequest(peer, pp.piece, b);
      out.push(this.geo.blockRef(pp.piece, b));
    },
  };

  constructor(private readonly opts: PiecePickerOptions) {
    const n = opts.pieceCount;
    this.pieceCount = n;
    this.have = opts.have ? opts.have.clone() : new Bitfield(n);
    if (this.have.length !== n) throw new RangeError('have bitfield length differs from piece count');
    this.priority = new Uint8Array(n).fill(DEFAULT_PRIORITY);
    this.availability = new Int32Array(n);
    this.pos = new Int32Array(n).fill(-1);
    this.geo = new BlockGeometry(n, opts.pieceLengthBytes, opts.totalLengthBytes);
    this.endgameMaxRequesters = opts.endgameMaxRequesters ?? 2;
    for (let p = 0; p <= MAX_PRIORITY; p++) this.levels.push(new AvailabilityBuckets(this.pos));
    for (let i = 0; i < n; i++) if (!this.have.get(i)) this.levels[DEFAULT_PRIORITY]?.insert(i, 0);
  }

  // ---- our pieces and priorities -------------------------------------------------------

  /** True when we have every piece of priority > 0. */
  isComplete(): boolean {
    return this.wantedCount() === 0;
  }

  /** Number of wanted pieces we do not have yet. */
  wantedCount(): number {
    let n = 0;
    for (let p = 1; p <= MAX_PRIORITY; p++) n += this.levels[p]?.size ?? 0;
    return n;
  }

  hasPiece(piece: number): boolean {
    return this.have.get(piece);
  }

  /** A copy of our have set. */
  haveBitfield(): Bitfield {
    return this.have.clone();
  }

  piecePriority(piece: number): number {
    return this.priority[piece] ?? 0;
  }

  /** Set one piece's priority (0 = do not download, 1–7). */
  setPiecePriority(piece: number, prio: number): void {
    checkPriority(prio);
    const old = this.priority[piece] ?? 0;
    if (old === prio) return;
    if (!this.have.get(piece)) {
      this.levelOf(old).remove(piece, this.availability[piece] ?? 0);
      this.levelOf(prio).insert(piece, this.availability[piece] ?? 0);
    }
    this.priority[piece] = prio;
  }

  /**
   * Per-file priorities (0 = do not download, 1–7) through the `files` ranges; a piece takes
   * the highest priority of the files it touches, so a piece shared with a wanted file is
   * downloaded even if the other file is skipped.
   */
  setFilePriorities(priorities: readonly number[]): void {
    const files = this.opts.files;
    if (!files || files.length !== priorities.length) throw new RangeError('one priority per file needed');
    const next = new Uint8Array(this.pieceCount);
    files.forEach((range, f) => {
      const prio = priorities[f] ?? 0;
      checkPriority(prio);
      for (let i = range.firstPiece; i < range.endPiece; i++) next[i] = Math.max(next[i] ?? 0, prio);
    });
    for (let i = 0; i < this.pieceCount; i++) this.setPiecePriority(i, next[i] ?? 0);
  }

  /** Sequential mode: lowest index first instead of rarest first (streaming). */
  setSequential(isSequential: boolean): void {
    this.isSequential = isSequential;
  }

  // ---- streaming deadlines -------------------------------------------------------------

  /**
   * Reader `id` (an HTTP range response, a player) needs pieces `[firstPiece, endPiece)` next:
   * they become deadline pieces, picked before every other piece, in this order, spread over
   * the peers that are sending to us, and a slow block may be asked of a second peer. Replaces
   * the reader's previous window (a seek); an empty range clears it. Pieces of priority 0 are
   * not fetched for a window: the caller raises the file's priority if it wants them.
   */
  setStreamWindow(id: string, range: PieceRange): void {
    const firstPiece = Math.max(0, Math.min(this.pieceCount, range.firstPiece));
    const endPiece = Math.max(firstPiece, Math.min(this.pieceCount, range.endPiece));
    this.windows.set(id, { firstPiece, endPiece });
  }

  /** Reader `id` went away: its deadlines are gone. */
  clearStreamWindow(id: string): void {
    this.windows.clear(id);
  }

  /** Deadline pieces still to fetch, most urgent first (a verified piece drops out). */
  deadlinePieces(): number[] {
    return this.windows.pieces().filter((p) => this.isWanted(p));
  }

  /** The usual request-to-arrival time of a block (the yardstick for slow deadline blocks). */
  blockRoundTripMs(): number {
    return this.roundTrip.estimateMs;
  }

  // ---- peers' pieces ------------------------------------------------------------------

  /** Availability of a piece: peers that have it. */
  availabilityOf(piece: number): number {
    return (this.availability[piece] ?? 0) + this.seedCount;
  }

  /** A peer's BEP 3 bitfield (replaces anything known about the peer). */
  onPeerBitfield(peer: PeerId, bitfield: Bitfield): void {
    if (bitfield.hasAll()) {
      this.onPeerHaveAll(peer);
      return;
    }
    this.forgetPeerPieces(peer);
    const copy = new Bitfield(this.pieceCount);
    this.peerBitfields.set(peer, copy);
    for (const i of bitfield) this.onPeerHave(peer, i);
  }

  /** BEP 6 have-all: counted once for all pieces (O(1)). */
  onPeerHaveAll(peer: PeerId): void {
    this.forgetPeerPieces(peer);
    this.peerBitfields.set(peer, 'all');
    this.seedCount++;
  }

  /** BEP 6 have-none. */
  onPeerHaveNone(peer: PeerId): void {
    this.forgetPeerPieces(peer);
    this.peerBitfields.set(peer, new Bitfield(this.pieceCount));
  }

  /** BEP 3 have. O(1). */
  onPeerHave(peer: PeerId, piece: number): void {
    let bf = this.peerBitfields.get(peer);
    if (bf === 'all') return;
    if (!bf) {
      bf = new Bitfield(this.pieceCount);
      this.peerBitfields.set(peer, bf);
    }
    if (!bf.set(piece)) return;
    const a = this.availability[piece] ?? 0;
    if (this.pos[piece] !== -1) this.levelOf(this.priority[piece] ?? 0).increment(piece, a);
    this.availability[piece] = a + 1;
  }

  /** The peer is gone: drop its availability and return its requested blocks to the pool. */
  onPeerLeft(peer: PeerId): BlockRef[] {
    this.forgetPeerPieces(peer);
    this.peerBitfields.delete(peer);
    const keys = this.peerRequests.get(peer);
    const returned: BlockRef[] = [];
    if (keys) {
      for (const key of [...keys]) {
        const block = this.geo.blockOfKey(key);
        this.cancelRequest(peer, block);
        returned.push(block);
      }
    }
    this.peerRequests.delete(peer);
    return returned;
  }

  /** Blocks currently requested from `peer`. */
  requestsOf(peer: PeerId): BlockRef[] {
    return [...(this.peerRequests.get(peer) ?? [])].map((k) => this.geo.blockOfKey(k));
  }

  // ---- picking ------------------------------------------------------------------------

  /** True when every block of every wanted piece is requested or received. */
  isEndgame(): boolean {
    const wanted = this.wantedCount();
    if (wanted === 0) return false;
    let started = 0;
    for (const pp of this.partials.values()) {
      if ((this.priority[pp.piece] ?? 0) === 0) continue;
      if (pp.free > 0) return false;
      started++;
    }
    return started === wanted;
  }

  /**
   * Up to `count` blocks to request from `peer`, which has `peerHas`. The blocks are marked
   * requested by `peer`; return them with `cancelRequest` (timeout, choke, reject).
   */
  pickBlocks(peer: PeerId, peerHas: Bitfield, count: number, options: PickOptions = {}): BlockRef[] {
    const out: BlockRef[] = [];
    if (count <= 0) return out;
    const fast = options.allowedFast;
    const usable = options.isChoked
      ? (p: number) => fast?.has(p) === true && peerHas.get(p)
      : (p: number) => peerHas.get(p);
    if (this.windows.size > 0) pickDeadlines(this.deadlineContext, peer, usable, count, out);
    if (out.length < count) this.pickFromPartials(peer, usable, count, out);
    if (out.length < count) {
      if (options.isChoked) this.pickFromList([...(fast ?? [])].sort(byNumber), peer, usable, count, out);
      else if (this.isSequential) this.pickSequential(peer, usable, count, out);
      else this.pickRarest(peer, usable, count, out);
    }
    if (out.length > 0) return out;
    // Endgame: duplicates freely. Otherwise steal, or one busy block, so an unchoked peer whose
    // pieces are all requested elsewhere still gets work.
    if (this.isEndgame()) this.pickEndgame(peer, usable, count, out);
    else if (options.onSteal && !options.isChoked) this.steal(peer, usable, count, out, options.onSteal);
    else this.pickEndgame(peer, usable, Math.min(count, 1), out);
    return out;
  }

  private isWanted(piece: number): boolean {
    return !this.have.get(piece) && (this.priority[piece] ?? 0) > 0;
  }

  private now(): number {
    return this.opts.clock?.now() ?? 0;
  }

  private pickFromPartials(
    peer: PeerId,
    usable: (p: number) => boolean,
    count: number,
    out: BlockRef[],
  ): void {
    const candidates: PartialPiece[] = [];
    // Deadline pieces were offered already, up to this peer's share (see deadline-picks.ts).
    const isDeadline = (piece: number) => this.windows.size > 0 && this.windows.has(piece);
    for (const pp of this.partials.values()) {
      if (pp.free === 0 || (this.priority[pp.piece] ?? 0) === 0 || !usable(pp.piece)) continue;
      if (!isDeadline(pp.piece)) candidates.push(pp);
    }
    if (candidates.length === 0) return;
    const prio = this.priority;
    candidates.sort(
      (a, b) =>
        (prio[b.piece] ?? 0) - (prio[a.piece] ?? 0) ||
        (this.isSequential ? a.piece - b.piece : b.done - a.done || a.free - b.free),
    );
    for (const pp of candidates) {
      if (out.length >= count) return;
      this.takeFree(pp, peer, count, out);
    }
  }

  private pickRarest(peer: PeerId, usable: (p: number) => boolean, count: number, out: BlockRef[]): void {
    for (let prio = MAX_PRIORITY; prio >= 1 && out.length < count; prio--) {
      const level = this.levels[prio];
      if (!level || level.size === 0) continue;
      for (let a = 0; a < level.bucketCount && out.length < count; a++) {
        const [from, to] = level.bucket(a);
        const len = to - from;
        if (len === 0) continue;
        const offset = Math.floor(this.opts.random.next() * len);
        for (let k = 0; k < len && out.length < count; k++) {
          const piece = level.order[from + ((offset + k) % len)] ?? 0;
          if (!this.partials.has(piece) && usable(piece))
            this.takeFree(this.startPiece(piece), peer, count, out);
        }
      }
    }
  }

  private pickSequential(peer: PeerId, usable: (p: number) => boolean, count: number, out: BlockRef[]): void {
    for (let prio = MAX_PRIORITY; prio >= 1 && out.length < count; prio--) {
      if ((this.levels[prio]?.size ?? 0) === 0) continue;
      for (
        let i = this.have.firstMissing(0);
        i !== -1 && out.length < count;
        i = this.have.firstMissing(i + 1)
      ) {
        if (this.priority[i] === prio && !this.partials.has(i) && usable(i)) {
          this.takeFree(this.startPiece(i), peer, count, out);
        }
      }
    }
  }

  private pickFromList(
    pieces: readonly number[],
    peer: PeerId,
    usable: (p: number) => boolean,
    count: number,
    out: BlockRef[],
  ): void {
    for (const piece of pieces) {
      if (out.length >= count) return;
      if (this.have.get(piece) || this.partials.has(piece) || (this.priority[piece] ?? 0) === 0) continue;
      if (usable(piece)) this.takeFree(this.startPiece(piece), peer, count, out);
    }
  }

  private pickEndgame(peer: PeerId, usable: (p: number) => boolean, count: number, out: BlockRef[]): void {
    for (const pp of this.partials.values()) {
      if ((this.priority[pp.piece] ?? 0) === 0 || !usable(pp.piece)) continue;
      for (let b = 0; b < pp.state.length && out.length < count; b++) {
        const who = pp.requesters[b];
        if (pp.state[b] !== BlockState.Requested || !who) continue;
        if (who.includes(peer) || who.length >= this.endgameMaxRequesters) continue;
        who.push(peer);
        this.addPeerRequest(peer, pp.piece, b);
        out.push(this.geo.blockRef(pp.piece, b));
      }
      if (out.length >= count) return;
    }
  }

  private steal(
    peer: PeerId,
    usable: (p: number) => boolean,
    count: number,
    out: BlockRef[],
    onSteal: (victim: PeerId, block: BlockRef) => void,
  ): void {
    const mine = this.peerRequests.get(peer)?.size ?? 0;
    const victims = [...this.peerRequests].filter(([v, set]) => v !== peer && set.size > mine + 1);
    victims.sort((a, b) => b[1].size - a[1].size);
    for (const [victim, set] of victims) {
      // The newest half of its queue: least likely to be in flight already.
      const keys = [...set].slice(Math.ceil(set.size / 2)).reverse();
      for (const key of keys) {
        if (out.length >= count || set.size <= mine + out.length + 1) break;
        const block = this.geo.blockOfKey(key);
        const pp = this.partials.get(block.piece);
        const b = block.offset / BLOCK_LENGTH;
        const who = pp?.requesters[b];
        if (!pp || !who || who.length !== 1 || !usable(block.piece)) continue;
        who[0] = peer;
        pp.requestedAtMs[b] = this.now();
        set.delete(key);
        this.addPeerRequest(peer, block.piece, b);
        out.push(block);
        onSteal(victim, block);
      }
      if (out.length >= count) return;
    }
  }

  private startPiece(piece: number): PartialPiece {
    const blocks = this.geo.blockCount(piece);
    const pp: PartialPiece = {
      piece,
      state: new Uint8Array(blocks),
      requesters: new Array(blocks).fill(undefined),
      senders: new Array(blocks).fill(undefined),
      requestedAtMs: new Float64Array(blocks),
      free: blocks,
      done: 0,
    };
    this.partials.set(piece, pp);
    return pp;
  }

  private takeFree(pp: PartialPiece, peer: PeerId, count: number, out: BlockRef[]): void {
    const now = this.now();
    for (let b = 0; b < pp.state.length && out.length < count && pp.free > 0; b++) {
      if (pp.state[b] !== BlockState.Free) continue;
      pp.state[b] = BlockState.Requested;
      pp.requesters[b] = [peer];
      pp.requestedAtMs[b] = now;
      pp.free--;
      this.addPeerRequest(peer, pp.piece, b);
      out.push(this.geo.blockRef(pp.piece, b));
    }
  }

  // ---- block and piece events ---------------------------------------------------------

  /** A request was not answered (timeout, choke, BEP 6 reject): the block goes back to the pool. */
  cancelRequest(peer: PeerId, block: BlockRef): void {
    const b = block.offset / BLOCK_LENGTH;
    this.peerRequests.get(peer)?.delete(this.geo.key(block.piece, b));
    const pp = this.partials.get(block.piece);
    const who = pp?.requesters[b];
    if (!pp || !who) return;
    const at = who.indexOf(peer);
    if (at === -1) return;
    who.splice(at, 1);
    if (who.length > 0) return;
    pp.requesters[b] = undefined;
    if (pp.state[b] === BlockState.Requested) {
      pp.state[b] = BlockState.Free;
      pp.free++;
      if (pp.done === 0 && pp.free === pp.state.length) this.partials.delete(pp.piece);
    }
  }

  /** A block arrived from `peer`. Unrequested blocks of wanted pieces are accepted too. */
  onBlockReceived(peer: PeerId, block: BlockRef): BlockReceipt {
    const b = block.offset / BLOCK_LENGTH;
    const valid = Number.isInteger(b) && b >= 0 && b < this.geo.blockCount(block.piece);
    if (!valid || this.have.get(block.piece)) return { isNew: false, isPieceComplete: false, cancels: [] };
    const pp = this.partials.get(block.piece) ?? this.startPiece(block.piece);
    const state = pp.state[b];
    const cancels: { peer: PeerId; block: BlockRef }[] = [];
    const requesters = pp.requesters[b];
    if (this.opts.clock && requesters?.length === 1 && requesters[0] === peer)
      this.roundTrip.add(this.now() - (pp.requestedAtMs[b] ?? 0));
    for (const other of pp.requesters[b] ?? []) {
      this.peerRequests.get(other)?.delete(this.geo.key(block.piece, b));
      if (other !== peer) cancels.push({ peer: other, block: this.geo.blockRef(block.piece, b) });
    }
    pp.requesters[b] = undefined;
    if (state === BlockState.Received || state === BlockState.Written) {
      return { isNew: false, isPieceComplete: false, cancels };
    }
    if (state === BlockState.Free) pp.free--;
    pp.state[b] = BlockState.Received;
    pp.senders[b] = peer;
    pp.done++;
    return { isNew: true, isPieceComplete: pp.done === pp.state.length, cancels };
  }

  /** Storage finished writing a received block. */
  onBlockWritten(block: BlockRef): void {
    const pp = this.partials.get(block.piece);
    const b = block.offset / BLOCK_LENGTH;
    if (pp && pp.state[b] === BlockState.Received) pp.state[b] = BlockState.Written;
  }

  /** Who sent each block of a partial piece (undefined where nothing arrived). */
  blockSenders(piece: number): readonly (PeerId | undefined)[] {
    return this.partials.get(piece)?.senders.slice() ?? [];
  }

  /** The piece passed its hash check: we have it. */
  onPieceVerified(piece: number): void {
    this.dropPartial(piece);
    if (this.have.get(piece)) return;
    if (this.pos[piece] !== -1)
      this.levelOf(this.priority[piece] ?? 0).remove(piece, this.availability[piece] ?? 0);
    this.have.set(piece);
  }

  /** The piece failed its hash check: every block is open again. Returns the peers that sent it. */
  onPieceFailed(piece: number): PeerId[] {
    const senders = new Set<PeerId>();
    for (const s of this.partials.get(piece)?.senders ?? []) if (s !== undefined) senders.add(s);
    this.dropPartial(piece);
    return [...senders];
  }

  private dropPartial(piece: number): void {
    const pp = this.partials.get(piece);
    if (!pp) return;
    pp.requesters.forEach((who, b) => {
      for (const peer of who ?? []) this.peerRequests.get(peer)?.delete(this.geo.key(piece, b));
    });
    this.partials.delete(piece);
  }

  // ---- helpers ------------------------------------------------------------------------

  private forgetPeerPieces(peer: PeerId): void {
    const bf = this.peerBitfields.get(peer);
    if (bf === 'all') this.seedCount--;
    else if (bf) {
      for (const piece of bf) {
        const a = this.availability[piece] ?? 0;
        if (this.pos[piece] !== -1) this.levelOf(this.priority[piece] ?? 0).decrement(piece, a);
        this.availability[piece] = a - 1;
      }
    }
    this.peerBitfields.delete(peer);
  }

  private levelOf(prio: number): AvailabilityBuckets {
    const level = this.levels[prio];
    if (!level) throw new RangeError(`priority ${prio}`);
    return level;
  }

  private addPeerRequest(peer: PeerId, piece: number, b: number): void {
    let set = this.peerRequests.get(peer);
    if (!set) {
      set = new Set();
      this.peerRequests.set(peer, set);
    }
    set.add(this.geo.key(piece, b));
  }

  /** Throws if any internal invariant is broken (tests call this after every scenario). */
  assertInvariants(): void {
    assertPickerInvariants({
      pieceCount: this.pieceCount,
      have: this.have,
      priority: this.priority,
      availability: this.availability,
      seedCount: this.seedCount,
      pos: this.pos,
      levels: this.levels,
      partials: this.partials,
      peerBitfields: this.peerBitfields,
      peerRequests: this.peerRequests,
      maxRequesters: this.endgameMaxRequesters,
      key: (piece, b) => this.geo.key(piece, b),
    });
  }
}

function byNumber(a: number, b: number): number {
  return a - b;
}
