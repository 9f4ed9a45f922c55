import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Bitfield } from '../util/bitfield.js';
import { seededRandom } from '../util/random.js';
import { PiecePicker } from './piece-picker.js';
import { BLOCK_LENGTH, type BlockRef } from './types.js';

interface Fixture {
  /** One digit per piece: how many peers have it (peers `a0`, `a1`, … hold the lowest counts). */
  availability: string;
  /** `*` = we have the piece. */
  have?: string;
  /** One digit 0–7 per piece. */
  priority?: string;
  blocksPerPiece?: number;
  seed?: number;
}

/** Build a picker from strings (STYLE.md item 1). */
function picker(f: Fixture): PiecePicker {
  const n = f.availability.length;
  const blocks = f.blocksPerPiece ?? 2;
  const p = new PiecePicker({
    pieceCount: n,
    pieceLengthBytes: blocks * BLOCK_LENGTH,
    totalLengthBytes: n * blocks * BLOCK_LENGTH,
    random: seededRandom(f.seed ?? 1),
    have: f.have ? Bitfield.fromString(f.have.padEnd(n)) : undefined,
  });
  const counts = [...f.availability].map(Number);
  const maxCount = Math.max(0, ...counts);
  for (let k = 0; k < maxCount; k++) {
    p.onPeerBitfield(`a${k}`, Bitfield.fromString(counts.map((c) => (c > k ? '*' : ' ')).join('')));
  }
  for (const [i, c] of [...(f.priority ?? '')].entries()) p.setPiecePriority(i, Number(c));
  return p;
}

const all = (n: number) => Bitfield.full(n);
const pieces = (blocks: readonly BlockRef[]) => [...new Set(blocks.map((b) => b.piece))];

test('picks the rarest piece the peer has', () => {
  const p = picker({ availability: '3331333' });
  const got = p.pickBlocks('x', all(7), 2);
  assert.deepEqual(pieces(got), [3]);
  assert.deepEqual(
    got.map((b) => b.offset),
    [0, BLOCK_LENGTH],
  );
  p.assertInvariants();
});

test('never picks pieces we have or priority 0 pieces', () => {
  const p = picker({ availability: '1111111', have: '  * *  ', priority: '7110000' });
  const got = p.pickBlocks('x', all(7), 100);
  assert.deepEqual(pieces(got).sort(), [0, 1]);
  assert.equal(got.length, 4);
  p.assertInvariants();
});

test('higher priority beats rarity', () => {
  const p = picker({ availability: '5155', priority: '1117' });
  assert.deepEqual(pieces(p.pickBlocks('x', all(4), 2)), [3]);
  p.assertInvariants();
});

test('ties between equally rare pieces are broken at random', () => {
  const firsts = new Set<number>();
  for (let seed = 1; seed <= 30; seed++) {
    const p = picker({ availability: '22222222', seed });
    firsts.add(p.pickBlocks('x', all(8), 1)[0]?.piece ?? -1);
    p.assertInvariants();
  }
  assert.ok(firsts.size >= 4, `only ${[...firsts]} chosen`);
});

test('finishes partial pieces before starting new ones, even rarer ones', () => {
  const p = picker({ availability: '2221', blocksPerPiece: 4 });
  const first = p.pickBlocks('x', all(4), 1);
  assert.deepEqual(pieces(first), [3]);
  p.onPeerHave('a1', 3);
  p.onPeerHave('a2', 3);
  p.onPeerHave('a3', 3);
  const next = p.pickBlocks('y', all(4), 3);
  assert.deepEqual(pieces(next), [3]);
  p.assertInvariants();
});

test('only picks pieces the peer has', () => {
  const p = picker({ availability: '1111' });
  const got = p.pickBlocks('x', Bitfield.fromString('  * '), 10);
  assert.deepEqual(pieces(got), [2]);
  p.assertInvariants();
});

test('sequential mode picks lowest index first regardless of rarity', () => {
  const p = picker({ availability: '5551', have: '*' });
  p.setSequential(true);
  assert.deepEqual(pieces(p.pickBlocks('x', all(4), 4)), [1, 2]);
  p.assertInvariants();
});

test('a choked peer only yields allowed-fast pieces', () => {
  const p = picker({ availability: '1111' });
  assert.deepEqual(p.pickBlocks('x', all(4), 10, { isChoked: true }), []);
  const got = p.pickBlocks('x', all(4), 10, { isChoked: true, allowedFast: new Set([2, 0]) });
  assert.deepEqual(pieces(got), [0, 2]);
  p.assertInvariants();
});

test('availability follows have, have-all, have-none and peer leave', () => {
  const p = picker({ availability: '0000' });
  p.onPeerHave('x', 1);
  p.onPeerHaveAll('s');
  assert.equal(p.availabilityOf(1), 2);
  assert.equal(p.availabilityOf(0), 1);
  p.onPeerHaveNone('s');
  assert.equal(p.availabilityOf(0), 0);
  p.onPeerLeft('x');
  assert.equal(p.availabilityOf(1), 0);
  p.assertInvariants();
});

test('a leaving peer returns its requested blocks to the pool', () => {
  const p = picker({ availability: '11' });
  const got = p.pickBlocks('x', Bitfield.fromString('* '), 2);
  const yHas = Bitfield.fromString('* ');
  const busy = p.pickBlocks('y', yHas, 2);
  assert.equal(busy.length, 1, 'not endgame (piece 1 untouched): one busy block only');
  assert.equal(p.isEndgame(), false);
  assert.deepEqual(p.onPeerLeft('x'), got);
  assert.deepEqual(
    p.pickBlocks('y', yHas, 2),
    got.filter((b) => b.offset !== busy[0]?.offset),
  );
  assert.deepEqual(p.requestsOf('y').length, 2);
  p.assertInvariants();
});

test('a received piece completes, verifies, and is never picked again', () => {
  const p = picker({ availability: '11' });
  const got = p.pickBlocks('x', all(2), 2);
  const receipts = got.map((b) => p.onBlockReceived('x', b));
  assert.deepEqual(
    receipts.map((r) => r.isPieceComplete),
    [false, true],
  );
  p.onPieceVerified(got[0]?.piece ?? -1);
  assert.equal(p.wantedCount(), 1);
  assert.ok(p.pickBlocks('x', all(2), 10).every((b) => b.piece !== got[0]?.piece));
  p.assertInvariants();
});

test('a failed piece re-opens all its blocks and names its senders', () => {
  const p = picker({ availability: '1' });
  const got = p.pickBlocks('x', all(1), 2);
  p.onBlockReceived('x', got[0] as BlockRef);
  p.onBlockReceived('y', got[1] as BlockRef);
  assert.deepEqual(p.onPieceFailed(0).sort(), ['x', 'y']);
  assert.equal(p.pickBlocks('z', all(1), 5).length, 2);
  p.assertInvariants();
});

test('endgame requests duplicates and reports which to cancel', () => {
  const p = picker({ availability: '2' });
  const x = p.pickBlocks('x', all(1), 2);
  assert.equal(p.isEndgame(), true);
  const y = p.pickBlocks('y', all(1), 2);
  assert.deepEqual(y, x);
  assert.deepEqual(p.pickBlocks('z', all(1), 2), [], 'at most 2 requesters per block');
  const r = p.onBlockReceived('y', y[0] as BlockRef);
  assert.deepEqual(r.cancels, [{ peer: 'x', block: x[0] }]);
  assert.deepEqual(p.requestsOf('x'), [x[1]]);
  p.assertInvariants();
});

test('file priorities map to pieces, shared pieces take the highest', () => {
  const p = new PiecePicker({
    pieceCount: 4,
    pieceLengthBytes: BLOCK_LENGTH,
    totalLengthBytes: 4 * BLOCK_LENGTH,
    random: seededRandom(1),
    files: [
      { firstPiece: 0, endPiece: 2 },
      { firstPiece: 1, endPiece: 4 },
    ],
  });
  p.setFilePriorities([0, 7]);
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => p.piecePriority(i)),
    [0, 7, 7, 7],
  );
  p.setFilePriorities([3, 0]);
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => p.piecePriority(i)),
    [3, 3, 0, 0],
  );
  assert.equal(p.wantedCount(), 2);
  p.assertInvariants();
});

test('the short last piece yields a short last block', () => {
  const p = new PiecePicker({
    pieceCount: 2,
    pieceLengthBytes: 2 * BLOCK_LENGTH,
    totalLengthBytes: 3 * BLOCK_LENGTH + 100,
    random: seededRandom(1),
  });
  p.setPiecePriority(0, 0);
  assert.deepEqual(p.pickBlocks('x', all(2), 5), [
    { piece: 1, offset: 0, length: BLOCK_LENGTH },
    { piece: 1, offset: BLOCK_LENGTH, length: 100 },
  ]);
  p.assertInvariants();
});

test('invariants hold under any sequence of events', () => {
  const peers = ['p0', 'p1', 'p2'];
  const event = fc.oneof(
    fc.record({ k: fc.constant('have' as const), peer: fc.constantFrom(...peers), piece: fc.nat(11) }),
    fc.record({ k: fc.constant('all' as const), peer: fc.constantFrom(...peers) }),
    fc.record({ k: fc.constant('left' as const), peer: fc.constantFrom(...peers) }),
    fc.record({ k: fc.constant('pick' as const), peer: fc.constantFrom(...peers), n: fc.nat(6) }),
    fc.record({ k: fc.constant('recv' as const), peer: fc.constantFrom(...peers), i: fc.nat(20) }),
    fc.record({ k: fc.constant('prio' as const), piece: fc.nat(11), prio: fc.nat(7) }),
    fc.record({ k: fc.constant('fail' as const), piece: fc.nat(11) }),
  );
  fc.assert(
    fc.property(fc.array(event, { maxLength: 60 }), fc.nat(), (events, seed) => {
      const p = picker({ availability: '000000000000', seed });
      const asked: BlockRef[] = [];
      for (const e of events) {
        if (e.k === 'have') p.onPeerHave(e.peer, e.piece);
        else if (e.k === 'all') p.onPeerHaveAll(e.peer);
        else if (e.k === 'left') p.onPeerLeft(e.peer);
        else if (e.k === 'pick') asked.push(...p.pickBlocks(e.peer, all(12), e.n));
        else if (e.k === 'prio') p.setPiecePriority(e.piece, e.prio);
        else if (e.k === 'fail') p.onPieceFailed(e.piece);
        else if (asked.length > 0) {
          const b = asked[e.i % asked.length] as BlockRef;
          if (p.onBlockReceived(e.peer, b).isPieceComplete) p.onPieceVerified(b.piece);
        }
        p.assertInvariants();
      }
    }),
    { numRuns: 150 },
  );
});

test('request stealing moves the newest requests of the deepest queue and reports them', () => {
  const p = picker({ availability: '11', blocksPerPiece: 8 });
  const onlyFirst = Bitfield.fromString('* ');
  const slow = p.pickBlocks('slow', onlyFirst, 8);
  const stolen: { victim: string; offset: number }[] = [];
  assert.equal(p.isEndgame(), false, 'piece 1 is untouched');
  const got = p.pickBlocks('fast', onlyFirst, 2, {
    onSteal: (victim, b) => stolen.push({ victim, offset: b.offset }),
  });
  assert.deepEqual(
    got.map((b) => b.offset),
    [7, 6].map((i) => i * BLOCK_LENGTH),
  );
  assert.deepEqual(stolen, [
    { victim: 'slow', offset: 7 * BLOCK_LENGTH },
    { victim: 'slow', offset: 6 * BLOCK_LENGTH },
  ]);
  assert.equal(p.requestsOf('slow').length, 6);
  assert.deepEqual(p.requestsOf('slow'), slow.slice(0, 6));
  p.assertInvariants();
});
