import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../util/clock.js';
import { RequestPipeline } from './request-pipeline.js';
import { BLOCK_LENGTH, type BlockRef } from './types.js';

/**
 * One peer behind a link of `rateBps` and round-trip `rttMs`, serving requests in order.
 * Returns the throughput achieved over `durationMs` and the final depth.
 */
function runLink(rateBps: number, rttMs: number, durationMs: number): { throughput: number; depth: number } {
  const clock = new ManualClock(0);
  const pipe = new RequestPipeline(clock);
  const arrivals: { atMs: number; block: BlockRef }[] = [];
  let serverFreeMs = 0;
  let next = 0;
  let received = 0;
  const blockMs = (BLOCK_LENGTH / rateBps) * 1000;
  const fill = () => {
    for (let n = pipe.wanted(); n > 0; n--) {
      const block = { piece: next >> 4, offset: (next & 15) * BLOCK_LENGTH, length: BLOCK_LENGTH };
      next++;
      pipe.onRequestSent(block);
      const startMs = Math.max(serverFreeMs, clock.now() + rttMs / 2);
      serverFreeMs = startMs + blockMs;
      arrivals.push({ atMs: serverFreeMs + rttMs / 2, block });
    }
  };
  fill();
  while (clock.now() < durationMs) {
    const a = arrivals.shift();
    if (!a) break;
    clock.advance(a.atMs - clock.now());
    pipe.onBlockReceived(a.block);
    if (clock.now() > durationMs / 2) received += BLOCK_LENGTH;
    fill();
  }
  return { throughput: received / (durationMs / 2000), depth: pipe.targetDepth() };
}

test('one fast low-latency peer saturates its link', () => {
  const rate = 200e6;
  const r = runLink(rate, 2, 4000);
  assert.ok(r.throughput > 0.9 * rate, `throughput ${r.throughput} of ${rate}, depth ${r.depth}`);
});

test('a long fat pipe gets a deep queue and stays saturated', () => {
  const rate = 20e6;
  const r = runLink(rate, 100, 10_000);
  assert.ok(r.throughput > 0.9 * rate, `throughput ${r.throughput}`);
  assert.ok(r.depth >= (rate * 0.1) / BLOCK_LENGTH, `depth ${r.depth} below the BDP`);
});

test('a slow peer keeps a shallow queue', () => {
  const r = runLink(50e3, 50, 20_000);
  assert.ok(r.depth <= 8, `depth ${r.depth}`);
  assert.ok(r.throughput > 0.9 * 50e3);
});

test('requests time out, are returned, and a silent peer becomes snubbed', () => {
  const clock = new ManualClock(0);
  const pipe = new RequestPipeline(clock, { requestTimeoutMs: 10_000, snubTimeoutMs: 60_000 });
  const b0 = { piece: 0, offset: 0, length: BLOCK_LENGTH };
  const b1 = { piece: 0, offset: BLOCK_LENGTH, length: BLOCK_LENGTH };
  pipe.onRequestSent(b0);
  clock.advance(5_000);
  pipe.onRequestSent(b1);
  clock.advance(5_000);
  assert.deepEqual(pipe.expire(), { timedOut: [b0], isSnubbed: false });
  clock.advance(55_000);
  const r = pipe.expire();
  assert.deepEqual(r.timedOut, [b1]);
  assert.equal(r.isSnubbed, true);
  assert.equal(pipe.targetDepth(), 1);
  pipe.onRequestSent(b0);
  pipe.onBlockReceived(b0);
  assert.equal(pipe.isSnubbed(), false);
});

test('depth never leaves [minDepth, maxDepth] for an unsnubbed peer', () => {
  const clock = new ManualClock(0);
  const pipe = new RequestPipeline(clock, { maxDepth: 20 });
  for (let i = 0; i < 5000; i++) {
    const b = { piece: i, offset: 0, length: BLOCK_LENGTH };
    pipe.onRequestSent(b);
    clock.advance(1);
    pipe.onBlockReceived(b);
    const d = pipe.targetDepth();
    assert.ok(d >= 4 && d <= 20, `depth ${d}`);
  }
});
