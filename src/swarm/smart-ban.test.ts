import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../util/random.js';
import { SmartBan } from './smart-ban.js';
import { BLOCK_LENGTH } from './types.js';

const rnd = seededRandom(3);
/** Test content contains NUL bytes on purpose (text-vs-bytes bugs). */
const good = rnd.bytes(4 * BLOCK_LENGTH);
good[5] = 0;

function corrupt(data: Uint8Array, block: number): Uint8Array {
  const copy = data.slice();
  copy[block * BLOCK_LENGTH + 10] = ((copy[block * BLOCK_LENGTH + 10] ?? 0) + 1) & 0xff;
  return copy;
}

test('identifies the peer whose block differed once the piece passes', () => {
  const sb = new SmartBan();
  assert.deepEqual(sb.onPieceFailed(9, corrupt(good, 2), ['a', 'b', 'evil', 'a']), []);
  const v = sb.onPiecePassed(9, good);
  assert.deepEqual(v, [
    {
      peer: 'evil',
      reason: 'corrupt-data',
      pieces: [9],
      blockOffsets: [2 * BLOCK_LENGTH],
      proof: 'mismatch',
    },
  ]);
  assert.equal(sb.rememberedPieces, 0);
});

test('honest peers sharing a failed piece are never accused', () => {
  const sb = new SmartBan();
  sb.onPieceFailed(1, corrupt(good, 0), ['evil', 'b', 'c', 'd']);
  sb.onPieceFailed(1, corrupt(good, 3), ['b', 'c', 'd', 'evil2']);
  const peers = sb
    .onPiecePassed(1, good)
    .map((v) => v.peer)
    .sort();
  assert.deepEqual(peers, ['evil', 'evil2']);
});

test('a peer that sent a whole failed piece is banned at once by default', () => {
  const sb = new SmartBan();
  const v = sb.onPieceFailed(4, corrupt(good, 1), ['x', 'x', 'x', 'x']);
  assert.equal(v.length, 1);
  assert.equal(v[0]?.peer, 'x');
  assert.equal(v[0]?.proof, 'sole-sender');
  assert.deepEqual(v[0]?.pieces, [4]);
});

test('the sole-sender threshold can require several failures', () => {
  const sb = new SmartBan({ soleSenderFailures: 2 });
  assert.deepEqual(sb.onPieceFailed(4, corrupt(good, 1), ['x', 'x', 'x', 'x']), []);
  assert.deepEqual(sb.onPieceFailed(5, corrupt(good, 1), ['x', 'x', 'x', 'x'])[0]?.pieces, [4, 5]);
});

test('remembers at most maxPieces failed pieces', () => {
  const sb = new SmartBan({ maxPieces: 3 });
  for (let p = 0; p < 10; p++) sb.onPieceFailed(p, corrupt(good, 0), ['a', 'b', 'c', 'd']);
  assert.equal(sb.rememberedPieces, 3);
  assert.deepEqual(sb.onPiecePassed(0, good), [], 'oldest forgotten');
  assert.equal(sb.onPiecePassed(9, good)[0]?.peer, 'a');
});
