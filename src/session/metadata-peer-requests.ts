/**
 * Per-peer piece-request bookkeeping of the BEP 9 metadata fetcher: whether a peer may be asked
 * now, ending a request, choosing which peer to ask for a piece, and a fresh assembly record.
 * Pure functions over the state records of metadata-fetch-state.ts, split out of
 * metadata-fetcher.ts so that file keeps the scheduling policy and verification only.
 */
import { metadataPieceCount } from '../wire/ut-metadata.js';
import { type Assembly, MIXED_OUTSTANDING, type Peer, type SizeClaim } from './metadata-fetch-state.js';

/** Not convicted, not gone, and not resting after rejects or timeouts. */
export function isUsable(peer: Peer, nowMs: number): boolean {
  return !peer.isBad && !peer.isGone && nowMs >= peer.stalledUntilMs;
}

/** A request of `piece` from `peer` is over (answered, timed out, or no longer wanted). */
export function forgetRequest(peer: Peer, piece: number): void {
  peer.outstanding.delete(piece);
  const a = peer.assembly;
  if (a !== null && a.inflight.get(piece) === peer) a.inflight.delete(piece);
}

/**
 * Spread: a peer not yet asked for this piece first, then the least loaded; ties go to the
 * first from `rotation` on, so the caller advancing `rotation` after each pick rotates them.
 */
export function pickSource(
  members: readonly Peer[],
  piece: number,
  nowMs: number,
  rotation: number,
): Peer | null {
  let best: Peer | null = null;
  let bestScore = Number.POSITIVE_INFINITY;
  for (let k = 0; k < members.length; k++) {
    const p = members[(rotation + k) % members.length]!;
    if (p.assembly === null || !isUsable(p, nowMs) || p.outstanding.size >= MIXED_OUTSTANDING) continue;
    const score = (p.asked.has(piece) ? MIXED_OUTSTANDING : 0) + p.outstanding.size;
    if (score < bestScore) {
      best = p;
      bestScore = score;
    }
  }
  return best;
}

/** An empty assembly of the claimed size; `owner` null for the mixed one. */
export function newAssembly(claim: SizeClaim, owner: Peer | null): Assembly {
  const count = metadataPieceCount(claim.sizeBytes);
  return {
    claim,
    sizeBytes: claim.sizeBytes,
    owner,
    pieces: new Array<Uint8Array | null>(count).fill(null),
    sources: new Array<Peer | null>(count).fill(null),
    inflight: new Map(),
    have: 0,
    isDropped: false,
  };
}
