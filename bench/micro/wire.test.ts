import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runWireBench } from './wire.js';

test('wire micro-benchmark runs in smoke mode and reports positive rates', () => {
  const r = runWireBench(2);
  assert.ok(r.encodeMBps > 0 && Number.isFinite(r.encodeMBps));
  assert.ok(r.decodeMBps > 0 && Number.isFinite(r.decodeMBps));
  assert.ok(r.zeroCopyShare > 0.5, `most blocks decode without a copy (${r.zeroCopyShare})`);
  assert.ok(r.zeroCopyShare < 1, 'frames split across chunks are assembled');
});
