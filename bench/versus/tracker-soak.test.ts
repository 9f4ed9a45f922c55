import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from './tracker-soak.js';

test('tracker soak smoke mode: 3 s of mixed announces and scrapes, every checked answer right', {
  timeout: 30_000,
}, async () => {
  const r = await runSoak({ seconds: 3, torrents: 50, peersPerTorrent: 20 });
  assert.ok(r.announces > 1000 && r.scrapes > 0, `${r.announces} announces, ${r.scrapes} scrapes`);
  assert.ok(r.checkedAnswers > 1000);
  assert.equal(r.wrongAnswers, 0, r.wrongExamples.join('; '));
  assert.ok(r.samples.length >= 2, 'memory sampled every second');
});
