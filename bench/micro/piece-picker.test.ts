import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runPickerBench } from './piece-picker.js';

test('piece picker micro-benchmark runs in smoke mode and reports positive rates', () => {
  const r = runPickerBench(2_000, 5, 2_000, 100);
  assert.ok(r.haveOpsPerSec > 0 && Number.isFinite(r.haveOpsPerSec));
  assert.ok(r.picksPerSec > 0 && Number.isFinite(r.picksPerSec));
});
