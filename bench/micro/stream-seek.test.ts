import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runStreamSeekBench } from './stream-seek.js';

test('stream-seek benchmark runs in smoke mode and reports both first-byte times and their ratio', async () => {
  const r = await runStreamSeekBench({ pieces: 64, seeders: 2, seeds: 1, seekAtMs: 300 });
  assert.equal(r.runs, 1);
  assert.ok(r.firstByteMs.reader > 0 && Number.isFinite(r.firstByteMs.reader));
  assert.ok(Number.isFinite(r.firstByteMs.rarestFirst));
  assert.ok(r.ratio.firstByte > 0 && r.pieces.reader >= 1);
});
