/**
 * Picking blocks of deadline pieces (streaming windows, see stream-windows.ts) for one peer:
 * the first step of `PiecePicker.pickBlocks`, ahead of partial pieces and rarest first.
 *
 * Why the share: peers serve requests in order, so a piece whose blocks all sit in one peer's
 * queue arrives at that peer's rate. Each deadline piece is split among the peers sending to
 * us that have it (those with requests outstanding, at most DEADLINE_SPREAD), so the most
 * urgent piece arrives at the swarm's rate; a peer alone takes every block. A block that has
 * waited at one peer longer than twice the usual round trip is asked of this peer too (≤ 2
 * requesters: the first to deliver wins and the other request is cancelled) — libtorrent's
 * time-critical "busy" requests, for deadline pieces only.
 */
import type { Bitfield } from '../util/bitfield.js';
import { BlockState, type PartialPiece } from './piece-picker-types.js';
import type { StreamWindows } from './stream-windows.js';
import type { BlockRef, PeerId } from './types.js';

/** A deadline piece is spread over at most this many peers at once (its blocks split evenly). */
export const DEADLINE_SPREAD = 4;

/** The picker state and operations deadline picking uses (the picker hands in its own). */
export interface DeadlineContext {
  readonly windows: StreamWindows;
  readonly partials: Map<number, PartialPiece>;
  readonly peerRequests: ReadonlyMap<PeerId, ReadonlySet<number>>;
  readonly peerBitfields: ReadonlyMap<PeerId, Bitfield | 'all'>;
  /** Age after which a deadline block counts as slow; null: never (no clock). */
  slowAfterMs(): number | null;
  now(): number;
  /** Not had and priority > 0. */
  isWanted(piece: number): boolean;
  startPiece(piece: number): PartialPiece;
  /** Mark up to `count - out.length` free blocks of `pp` requested by `peer`, appending to `out`. */
  takeFree(pp: PartialPiece, peer: PeerId, count: number, out: BlockRef[]): void;
  /** Add `peer` as a further requester of block `b` (within the requester limit). */
  addRequester(pp: PartialPiece, b: number, peer: PeerId, out: BlockRef[]): void;
}

/** Deadline blocks for `peer`, most urgent piece first, appended to `out` (up to `count`). */
export function pickDeadlines(
  ctx: DeadlineContext,
  peer: PeerId,
  usable: (piece: number) => boolean,
  count: number,
  out: BlockRef[],
): void {
  const slowAfterMs = ctx.slowAfterMs();
  const slowBeforeMs = slowAfterMs === null ? null : ctx.now() - slowAfterMs;
  const active = activePeersBesides(ctx, peer);
  for (const piece of ctx.windows.pieces()) {
    if (out.length >= count) return;
    if (!ctx.isWanted(piece) || !usable(piece)) continue;
    const pp = ctx.partials.get(piece) ?? ctx.startPiece(piece);
    const sharers = Math.min(DEADLINE_SPREAD, 1 + active.filter((has) => has(piece)).length);
    const share = Math.ceil(pp.state.length / sharers) - requestedBy(pp, peer);
    if (share > 0) ctx.takeFree(pp, peer, Math.min(count, out.length + share), out);
    if (pp.done === 0 && pp.free === pp.state.length) ctx.partials.delete(piece);
    else if (slowBeforeMs !== null) duplicateSlow(ctx, pp, peer, slowBeforeMs, count, out);
  }
}

/** Blocks of `pp` requested before `slowBeforeMs` from other peers only: ask `peer` too. */
function duplicateSlow(
  ctx: DeadlineContext,
  pp: PartialPiece,
  peer: PeerId,
  slowBeforeMs: number,
  count: number,
  out: BlockRef[],
): void {
  for (let b = 0; b < pp.state.length && out.length < count; b++) {
    if (pp.state[b] !== BlockState.Requested || (pp.requestedAtMs[b] ?? 0) > slowBeforeMs) continue;
    ctx.addRequester(pp, b, peer, out);
  }
}

/** Piece tests of the other peers with requests outstanding (they are sending to us). */
function activePeersBesides(ctx: DeadlineContext, peer: PeerId): ((piece: number) => boolean)[] {
  const out: ((piece: number) => boolean)[] = [];
  for (const [other, set] of ctx.peerRequests) {
    if (other === peer || set.size === 0) continue;
    const bf = ctx.peerBitfields.get(other);
    if (bf === 'all') out.push(() => true);
    else if (bf) out.push((p) => bf.get(p));
  }
  return out;
}

function requestedBy(pp: PartialPiece, peer: PeerId): number {
  let n = 0;
  for (const who of pp.requesters) if (who?.includes(peer)) n++;
  return n;
}
