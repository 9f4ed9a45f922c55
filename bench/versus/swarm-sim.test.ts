import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSwarmBench } from './swarm-sim.js';

test('swarm benchmark smoke mode runs a small swarm to completion with a finite ratio', () => {
  const r = runSwarmBench({ leechers: 4, pieces: 16 });
  assert.equal(r.completed, 4);
  assert.ok(Number.isFinite(r.ratio) && r.ratio >= 1);
});
