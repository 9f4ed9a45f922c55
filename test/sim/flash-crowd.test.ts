import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSwarm, type SwarmOptions } from './run-swarm.js';

/** Upload caps from 125 to 375 kB/s (mean 250 kB/s), deterministic. */
const heterogeneous = (i: number) => 125_000 + ((i * 7919) % 1001) * 250;

const crowd = (leechers: number, pieces: number, seed: number): SwarmOptions => ({
  leechers,
  pieces,
  pieceLengthBytes: 256 * 1024,
  seedUploadBps: 500_000,
  leecherUploadBps: heterogeneous,
  latencyMs: 25,
  seed,
  maxVirtualMs: 600_000,
});

test('1 seeder + 50 leechers with heterogeneous upload caps all complete, within 2.5x of the fluid bound', async () => {
  const r = await runSwarm(crowd(50, 16, 1));
  assert.equal(r.completed, 50);
  // Never faster than the bound: the network model really enforces the upload caps.
  assert.ok(r.ratioToBound >= 1, `ratio ${r.ratioToBound}`);
  assert.ok(
    r.ratioToBound < 2.5,
    `ratio ${r.ratioToBound} (completion ${r.completionMs} ms, bound ${r.lowerBoundMs} ms)`,
  );
  assert.ok(r.seedUploadedBytes >= 16 * 256 * 1024, 'the seed uploaded every piece at least once');
  assert.equal(r.bans, 0);
  assert.equal(r.hashFailures, 0);
});

test('the simulation is deterministic for a given seed', async () => {
  const a = await runSwarm(crowd(4, 8, 7));
  const b = await runSwarm(crowd(4, 8, 7));
  assert.equal(a.completed, 4);
  assert.deepEqual(a.completedAtMs, b.completedAtMs);
  assert.equal(a.steps, b.steps);
  const c = await runSwarm(crowd(4, 8, 8));
  assert.notDeepEqual(a.completedAtMs, c.completedAtMs, 'another seed gives another run');
});
