/** The piece picker's internal invariants, checked by `PiecePicker.assertInvariants` in tests. */
import type { Bitfield } from '../util/bitfield.js';
import type { AvailabilityBuckets } from './availability-buckets.js';
import { BlockState, must, type PartialPiece } from './piece-picker-types.js';
import type { PeerId } from './types.js';

/** What the check reads of a picker (its private state, handed in by the picker itself). */
export interface PickerState {
  readonly pieceCount: number;
  readonly have: Bitfield;
  readonly priority: Uint8Array;
  readonly availability: Int32Array;
  readonly seedCount: number;
  readonly pos: Int32Array;
  readonly levels: readonly AvailabilityBuckets[];
  readonly partials: ReadonlyMap<number, PartialPiece>;
  readonly peerBitfields: ReadonlyMap<PeerId, Bitfield | 'all'>;
  readonly peerRequests: ReadonlyMap<PeerId, ReadonlySet<number>>;
  readonly maxRequesters: number;
  key(piece: number, block: number): number;
}

/** Throws if any invariant is broken. */
export function assertPickerInvariants(s: PickerState): void {
  const avail = new Int32Array(s.pieceCount);
  let seeds = 0;
  for (const bf of s.peerBitfields.values()) {
    if (bf === 'all') seeds++;
    else for (const i of bf) avail[i] = (avail[i] ?? 0) + 1;
  }
  must(seeds === s.seedCount, `seed count ${s.seedCount} != ${seeds}`);
  for (let i = 0; i < s.pieceCount; i++) {
    must(avail[i] === s.availability[i], `availability of piece ${i}`);
    const inLevel = s.pos[i] !== -1;
    must(inLevel === !s.have.get(i), `piece ${i} in a level iff not had`);
    if (inLevel) {
      const level = s.levels[s.priority[i] ?? 0];
      must(level?.order[s.pos[i] ?? -1] === i, `piece ${i} in level of its priority`);
    }
  }
  for (const level of s.levels) level.check((p) => s.availability[p] ?? 0);
  checkPartials(s);
}

function checkPartials(s: PickerState): void {
  const fromPartials = new Map<PeerId, number>();
  for (const pp of s.partials.values()) {
    must(!s.have.get(pp.piece), `partial piece ${pp.piece} is already had`);
    let free = 0;
    let done = 0;
    pp.state.forEach((state, b) => {
      const who = pp.requesters[b];
      if (state === BlockState.Free) free++;
      if (state === BlockState.Received || state === BlockState.Written) done++;
      must(
        (state === BlockState.Requested) === (who !== undefined && who.length > 0),
        `requesters of ${pp.piece}/${b}`,
      );
      must(
        (who?.length ?? 0) <= s.maxRequesters,
        `at most ${s.maxRequesters} requesters of ${pp.piece}/${b}`,
      );
      must(new Set(who).size === (who?.length ?? 0), `one request per peer of ${pp.piece}/${b}`);
      must(state < BlockState.Received || pp.senders[b] !== undefined, `sender of ${pp.piece}/${b}`);
      for (const peer of who ?? []) {
        must(s.peerRequests.get(peer)?.has(s.key(pp.piece, b)) === true, `peer index ${peer}`);
        fromPartials.set(peer, (fromPartials.get(peer) ?? 0) + 1);
      }
    });
    must(free === pp.free && done === pp.done, `counters of partial piece ${pp.piece}`);
  }
  for (const [peer, set] of s.peerRequests) {
    must(set.size === (fromPartials.get(peer) ?? 0), `request index of ${peer} has stale entries`);
  }
}
