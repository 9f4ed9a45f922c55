import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Bitfield } from '../util/bitfield.js';
import { VirtualScheduler } from '../util/clock.js';
import { seededRandom } from '../util/random.js';
import { PiecePicker } from './piece-picker.js';
import { StreamWindows } from './stream-windows.js';
import { BLOCK_LENGTH, type BlockRef } from './types.js';

/** `n` pieces of `blocks` blocks; peer `s<k>` for each of `seeds` has every piece. */
function streamPicker(n: number, o: { blocks?: number; seeds?: number; clock?: VirtualScheduler } = {}) {
  const blocks = o.blocks ?? 4;
  const p = new PiecePicker({
    pieceCount: n,
    pieceLengthBytes: blocks * BLOCK_LENGTH,
    totalLengthBytes: n * blocks * BLOCK_LENGTH,
    random: seededRandom(3),
    ...(o.clock ? { clock: o.clock } : {}),
  });
  for (let k = 0; k < (o.seeds ?? 0); k++) p.onPeerHaveAll(`s${k}`);
  return p;
}

const all = (n: number) => Bitfield.full(n);
const pieces = (blocks: readonly BlockRef[]) => [...new Set(blocks.map((b) => b.piece))];

test('window pieces are picked first, in reading order, ahead of rarer pieces', () => {
  const p = streamPicker(10, { seeds: 2 });
  p.onPeerHave('r', 0); // piece 0 is rarest… but not rarer than a reader's need
  p.onPeerBitfield('x', Bitfield.fromString('**********'));
  p.setStreamWindow('reader', { firstPiece: 5, endPiece: 8 });
  const got = p.pickBlocks('x', all(10), 12);
  assert.deepEqual(pieces(got), [5, 6, 7]);
  assert.deepEqual(
    got.slice(0, 4).map((b) => [b.piece, b.offset / BLOCK_LENGTH]),
    [
      [5, 0],
      [5, 1],
      [5, 2],
      [5, 3],
    ],
  );
  // Past the window: back to rarest first.
  const more = p.pickBlocks('x', all(10), 4);
  assert.ok(!more.some((b) => b.piece >= 5 && b.piece < 8), 'window is fully requested');
  p.assertInvariants();
});

test('a deadline piece is shared among the peers sending to us; a peer alone takes it whole', () => {
  const p = streamPicker(20, { seeds: 4, blocks: 8 });
  p.setStreamWindow('r', { firstPiece: 10, endPiece: 12 });
  // Alone (nobody else has requests outstanding): all 8 blocks of the first deadline piece.
  assert.deepEqual(pieces(p.pickBlocks('s0', all(20), 8)), [10]);
  // s1 now shares with s0 (which is sending): half of piece 11, then rarest-first work.
  const s1 = p.pickBlocks('s1', all(20), 6);
  assert.deepEqual(
    s1.slice(0, 4).map((b) => b.piece),
    [11, 11, 11, 11],
  );
  assert.ok(s1.slice(4).every((b) => b.piece !== 11 && b.piece !== 10));
  // s2 shares with two: a third of piece 11's blocks (3 of the 4 still free), first.
  const s2 = p.pickBlocks('s2', all(20), 4);
  assert.deepEqual(
    s2.slice(0, 3).map((b) => [b.piece, b.offset / BLOCK_LENGTH]),
    [
      [11, 4],
      [11, 5],
      [11, 6],
    ],
  );
  assert.notEqual(s2[3]?.piece, 11);
  // s0 comes back for more: the last block of piece 11 is within its share.
  assert.deepEqual(
    p.pickBlocks('s0', all(20), 1).map((b) => [b.piece, b.offset / BLOCK_LENGTH]),
    [[11, 7]],
  );
  p.assertInvariants();
});

test('a slow deadline block is asked of a second peer, and the loser is cancelled', () => {
  const clock = new VirtualScheduler();
  const p = streamPicker(8, { seeds: 2, blocks: 2, clock });
  p.setStreamWindow('r', { firstPiece: 3, endPiece: 4 });
  const slow = p.pickBlocks('s0', all(8), 2);
  assert.deepEqual(pieces(slow), [3]);
  // Soon after: not slow yet, so s1 gets ordinary work and no duplicate.
  clock.advance(100);
  const early = p.pickBlocks('s1', all(8), 1);
  assert.notEqual(early[0]?.piece, 3);
  // Long past twice the round trip (500 ms before any sample): s1 asks for both blocks too.
  clock.advance(2_000);
  const dup = p.pickBlocks('s1', all(8), 4);
  assert.deepEqual(
    dup.slice(0, 2).map((b) => [b.piece, b.offset]),
    [
      [3, 0],
      [3, BLOCK_LENGTH],
    ],
  );
  const receipt = p.onBlockReceived('s1', dup[0]!);
  assert.equal(receipt.isNew, true);
  assert.deepEqual(receipt.cancels, [{ peer: 's0', block: slow[0] }]);
  // At most two requesters: a third peer gets no copy of the remaining block.
  p.onPeerHaveAll('s2');
  clock.advance(5_000);
  assert.ok(!p.pickBlocks('s2', all(8), 4).some((b) => b.piece === 3));
  p.assertInvariants();
});

test('without a clock a deadline block is never duplicated', () => {
  const p = streamPicker(4, { seeds: 2, blocks: 2 });
  p.setStreamWindow('r', { firstPiece: 0, endPiece: 1 });
  p.pickBlocks('s0', all(4), 2);
  assert.ok(!p.pickBlocks('s1', all(4), 8).some((b) => b.piece === 0));
  p.assertInvariants();
});

test('the round trip estimate follows arrivals and sets when a block counts as slow', () => {
  const clock = new VirtualScheduler();
  const p = streamPicker(40, { seeds: 2, blocks: 1, clock });
  for (let i = 0; i < 30; i++) {
    const [b] = p.pickBlocks('s0', all(40), 1);
    clock.advance(40);
    p.onBlockReceived('s0', b!);
    p.onPieceVerified(b!.piece);
  }
  assert.ok(p.blockRoundTripMs() < 60, `estimate ${p.blockRoundTripMs()} ms`);
  // Now 250 ms (the floor) makes a deadline block slow.
  p.setStreamWindow('r', { firstPiece: 39, endPiece: 40 });
  p.onPieceFailed(39);
  const first = p.pickBlocks('s0', all(40), 1);
  assert.deepEqual(pieces(first), [39]);
  clock.advance(200);
  assert.ok(!p.pickBlocks('s1', all(40), 1).some((b) => b.piece === 39));
  clock.advance(100);
  assert.ok(p.pickBlocks('s1', all(40), 1).some((b) => b.piece === 39));
  p.assertInvariants();
});

test('deadlines clear when their piece is verified, when the reader seeks, and when it goes away', () => {
  const p = streamPicker(10, { seeds: 1, blocks: 1 });
  p.setStreamWindow('r', { firstPiece: 2, endPiece: 5 });
  assert.deepEqual(p.deadlinePieces(), [2, 3, 4]);
  const [b] = p.pickBlocks('s0', all(10), 1);
  p.onBlockReceived('s0', b!);
  p.onPieceVerified(2);
  assert.deepEqual(p.deadlinePieces(), [3, 4]);
  p.setStreamWindow('r', { firstPiece: 7, endPiece: 9 }); // a seek moves the window
  assert.deepEqual(p.deadlinePieces(), [7, 8]);
  assert.deepEqual(pieces(p.pickBlocks('s0', all(10), 2)), [7, 8]);
  p.clearStreamWindow('r');
  assert.deepEqual(p.deadlinePieces(), []);
  p.assertInvariants();
});

test('two readers take turns: the next piece of each comes before the second piece of either', () => {
  const w = new StreamWindows();
  w.set('a', { firstPiece: 10, endPiece: 13 });
  w.set('b', { firstPiece: 50, endPiece: 52 });
  w.set('c', { firstPiece: 11, endPiece: 12 });
  assert.deepEqual(w.pieces(), [10, 50, 11, 51, 12]);
  w.set('a', { firstPiece: 0, endPiece: 0 });
  assert.deepEqual(w.pieces(), [50, 11, 51]);
  assert.equal(w.has(51), true);
  assert.equal(w.has(10), false);
});

test('a window never fetches priority-0 pieces and respects choking', () => {
  const p = streamPicker(6, { seeds: 1, blocks: 1 });
  p.setPiecePriority(2, 0);
  p.setStreamWindow('r', { firstPiece: 1, endPiece: 4 });
  assert.deepEqual(p.deadlinePieces(), [1, 3]);
  assert.deepEqual(p.pickBlocks('s0', all(6), 10, { isChoked: true }), []);
  const fast = p.pickBlocks('s0', all(6), 10, { isChoked: true, allowedFast: new Set([3, 5]) });
  assert.deepEqual(pieces(fast), [3, 5]);
  // Out-of-range windows are clamped.
  p.setStreamWindow('r', { firstPiece: 4, endPiece: 99 });
  assert.deepEqual(p.deadlinePieces(), [4, 5]);
  p.assertInvariants();
});

test('invariants hold under any sequence of events with moving windows', () => {
  const peers = ['p0', 'p1', 'p2'];
  const event = fc.oneof(
    fc.record({ k: fc.constant('have' as const), peer: fc.constantFrom(...peers), piece: fc.nat(11) }),
    fc.record({ k: fc.constant('all' as const), peer: fc.constantFrom(...peers) }),
    fc.record({ k: fc.constant('left' as const), peer: fc.constantFrom(...peers) }),
    fc.record({ k: fc.constant('pick' as const), peer: fc.constantFrom(...peers), n: fc.nat(6) }),
    fc.record({ k: fc.constant('recv' as const), peer: fc.constantFrom(...peers), i: fc.nat(20) }),
    fc.record({ k: fc.constant('fail' as const), piece: fc.nat(11) }),
    fc.record({
      k: fc.constant('seek' as const),
      r: fc.constantFrom('r0', 'r1'),
      at: fc.nat(11),
      len: fc.nat(4),
    }),
    fc.record({ k: fc.constant('close' as const), r: fc.constantFrom('r0', 'r1') }),
    fc.record({ k: fc.constant('time' as const), ms: fc.nat(3_000) }),
  );
  fc.assert(
    fc.property(fc.array(event, { maxLength: 60 }), (events) => {
      const clock = new VirtualScheduler();
      const p = streamPicker(12, { blocks: 3, clock });
      const asked: BlockRef[] = [];
      for (const e of events) {
        if (e.k === 'have') p.onPeerHave(e.peer, e.piece);
        else if (e.k === 'all') p.onPeerHaveAll(e.peer);
        else if (e.k === 'left') p.onPeerLeft(e.peer);
        else if (e.k === 'pick') asked.push(...p.pickBlocks(e.peer, all(12), e.n));
        else if (e.k === 'fail') p.onPieceFailed(e.piece);
        else if (e.k === 'seek') p.setStreamWindow(e.r, { firstPiece: e.at, endPiece: e.at + e.len });
        else if (e.k === 'close') p.clearStreamWindow(e.r);
        else if (e.k === 'time') clock.advance(e.ms);
        else if (asked.length > 0) {
          const b = asked[e.i % asked.length] as BlockRef;
          if (p.onBlockReceived(e.peer, b).isPieceComplete) p.onPieceVerified(b.piece);
        }
        p.assertInvariants();
        for (const d of p.deadlinePieces()) assert.equal(p.hasPiece(d), false);
      }
    }),
    { numRuns: 150 },
  );
});
