import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../util/random.js';
import { type ChokerPeer, type ChokerSettings, chooseUnchoked, DEFAULT_CHOKER_SETTINGS } from './choker.js';

const NOW = 1_000_000;

function peer(id: string, over: Partial<ChokerPeer> = {}): ChokerPeer {
  return {
    id,
    isInterested: true,
    amInterested: true,
    downloadRate: 0,
    uploadRate: 0,
    connectedAtMs: 0,
    lastBlockAtMs: NOW - 1000,
    unchokedSinceMs: null,
    lastUnchokeEndedMs: null,
    ...over,
  };
}

const state = (seed = 1, optimistic: string | null = null, optimisticSinceMs = 0) => ({
  nowMs: NOW,
  random: seededRandom(seed),
  optimistic,
  optimisticSinceMs,
});

const settings = (over: Partial<ChokerSettings> = {}): ChokerSettings => ({
  ...DEFAULT_CHOKER_SETTINGS,
  ...over,
});

test('leeching unchokes the 4 fastest uploaders to us plus one optimistic', () => {
  const peers = [10, 50, 20, 40, 30, 5].map((r, i) => peer(`p${i}`, { downloadRate: r }));
  const d = chooseUnchoked(peers, settings(), state());
  for (const id of ['p1', 'p3', 'p4', 'p2']) assert.ok(d.unchoke.has(id), id);
  assert.equal(d.unchoke.size, 5);
  assert.ok(d.optimistic === 'p0' || d.optimistic === 'p5');
});

test('uninterested peers are never unchoked', () => {
  const d = chooseUnchoked(
    [peer('a', { isInterested: false, downloadRate: 1e9 }), peer('b')],
    settings(),
    state(),
  );
  assert.deepEqual([...d.unchoke], ['b']);
});

test('a snubbing peer does not count as a reciprocator', () => {
  const peers = [
    peer('snub', { downloadRate: 1e6, lastBlockAtMs: NOW - 61_000 }),
    peer('slow', { downloadRate: 10 }),
  ];
  const d = chooseUnchoked(peers, settings({ uploadSlots: 1, hasOptimistic: false }), state());
  assert.deepEqual([...d.unchoke], ['slow']);
});

test('the optimistic unchoke is kept for 30 s and then rotated', () => {
  const peers = ['a', 'b', 'c'].map((id) => peer(id));
  const s = settings({ uploadSlots: 0 });
  assert.equal(chooseUnchoked(peers, s, state(1, 'b', NOW - 29_000)).optimistic, 'b');
  const d = chooseUnchoked(peers, s, state(1, 'b', NOW - 30_000));
  assert.notEqual(d.optimistic, 'b');
  assert.equal(d.optimisticSinceMs, NOW);
});

test('new peers are about three times as likely to be optimistically unchoked', () => {
  const peers = [peer('new', { connectedAtMs: NOW - 1000 }), peer('old1'), peer('old2'), peer('old3')];
  let hits = 0;
  const runs = 4000;
  for (let i = 0; i < runs; i++) {
    if (chooseUnchoked(peers, settings({ uploadSlots: 0 }), state(i + 1)).optimistic === 'new') hits++;
  }
  assert.ok(Math.abs(hits / runs - 0.5) < 0.04, `new chosen ${hits}/${runs}`);
});

test('seeding rotates: a peer past its turn yields to the longest-waiting choked peer', () => {
  const peers = [
    peer('done', { uploadRate: 1e6, unchokedSinceMs: NOW - 70_000 }),
    peer('inturn', { uploadRate: 10, unchokedSinceMs: NOW - 10_000 }),
    peer('waitedlong', { lastUnchokeEndedMs: NOW - 100_000 }),
    peer('waitedshort', { lastUnchokeEndedMs: NOW - 5_000 }),
    peer('never'),
  ];
  const d = chooseUnchoked(
    peers,
    settings({ isSeeding: true, uploadSlots: 3, hasOptimistic: false }),
    state(),
  );
  assert.deepEqual([...d.unchoke].sort(), ['inturn', 'never', 'waitedlong']);
});

test('unlimited slots unchoke every interested peer', () => {
  const peers = [peer('a'), peer('b'), peer('c', { isInterested: false })];
  const d = chooseUnchoked(peers, settings({ uploadSlots: Number.POSITIVE_INFINITY }), state());
  assert.deepEqual([...d.unchoke].sort(), ['a', 'b']);
  assert.equal(d.optimistic, null);
});
