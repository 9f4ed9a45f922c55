/**
 * Micro-benchmark of the piece picker's hot paths on a large torrent: availability updates
 * (have messages, bitfields, peer leave) and block picking.
 *   node --import tsx bench/micro/piece-picker.ts [pieces] [peers]
 */

import { PiecePicker } from '../../src/swarm/piece-picker.js';
import { BLOCK_LENGTH } from '../../src/swarm/types.js';
import { Bitfield } from '../../src/util/bitfield.js';
import { seededRandom } from '../../src/util/random.js';

export interface PickerBenchResult {
  readonly pieces: number;
  readonly peers: number;
  readonly haveOpsPerSec: number;
  readonly picksPerSec: number;
  readonly peerLeaveMs: number;
}

/** Runs the benchmark; `pieces`/`peers` small for the smoke test. */
export function runPickerBench(
  pieces = 100_000,
  peers = 50,
  haves = 200_000,
  picks = 2_000,
): PickerBenchResult {
  const rnd = seededRandom(7);
  const picker = new PiecePicker({
    pieceCount: pieces,
    pieceLengthBytes: 16 * BLOCK_LENGTH,
    totalLengthBytes: pieces * 16 * BLOCK_LENGTH,
    random: rnd,
  });
  const bitfields: Bitfield[] = [];
  for (let k = 0; k < peers; k++) {
    const bf = new Bitfield(pieces);
    for (let i = 0; i < pieces; i++) if (rnd.next() < 0.3) bf.set(i);
    bitfields.push(bf);
    picker.onPeerBitfield(`p${k}`, bf);
  }
  let t = performance.now();
  for (let i = 0; i < haves; i++) {
    const k = rnd.int(peers);
    const piece = rnd.int(pieces);
    bitfields[k]?.set(piece);
    picker.onPeerHave(`p${k}`, piece);
  }
  const haveMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < picks; i++) {
    const k = rnd.int(peers);
    const got = picker.pickBlocks(`p${k}`, bitfields[k] ?? new Bitfield(pieces), 16);
    for (const b of got) picker.onBlockReceived(`p${k}`, b);
    const first = got[0];
    if (first) picker.onPieceVerified(first.piece);
  }
  const pickMs = performance.now() - t;
  t = performance.now();
  picker.onPeerLeft('p0');
  const peerLeaveMs = performance.now() - t;
  return {
    pieces,
    peers,
    haveOpsPerSec: Math.round(haves / (haveMs / 1000)),
    picksPerSec: Math.round(picks / (pickMs / 1000)),
    peerLeaveMs: Math.round(peerLeaveMs * 100) / 100,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = runPickerBench(Number(process.argv[2] ?? 100_000), Number(process.argv[3] ?? 50));
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
