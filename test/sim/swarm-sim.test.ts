import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSwarmSim } from './swarm-sim.js';

const tiny = (seed: number) =>
  runSwarmSim({
    leechers: 5,
    pieces: 24,
    pieceLengthBytes: 64 * 1024,
    seedUploadBps: 400_000,
    leecherUploadBps: (i) => 200_000 + i * 50_000,
    latencyMs: 20,
    seed,
    maxTimeMs: 600_000,
  });

test('a tiny swarm (1 seeder + 5 leechers) completes, no faster than the fluid bound', () => {
  const r = tiny(1);
  assert.equal(r.completed, 5);
  assert.ok(Number.isFinite(r.ratio) && r.ratio >= 1, `ratio ${r.ratio}`);
  assert.ok(r.ratio < 3, `ratio ${r.ratio} is far from the bound`);
  assert.ok(r.seedUploadedBytes >= 24 * 64 * 1024, 'the seed uploaded every piece at least once');
});

test('the simulation is deterministic for a given seed', () => {
  assert.deepEqual(tiny(7).completedAtMs, tiny(7).completedAtMs);
});
