import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runStorageBench } from './storage.js';

test('storage micro-benchmark runs in smoke mode and reports positive rates', async () => {
  const r = await runStorageBench(2, 1);
  for (const rate of [r.writeMiBps, r.readMiBps, r.hashMiBps])
    assert.ok(rate > 0 && Number.isFinite(rate), `${rate}`);
});
