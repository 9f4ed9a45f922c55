import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runMetainfoBench } from './metainfo.js';

test('metainfo micro-benchmark runs in smoke mode and reports time and heap', () => {
  const [row] = runMetainfoBench([2_000]);
  assert.equal(row?.fileCount, 2_000);
  assert.ok(row.parseMs > 0 && Number.isFinite(row.parseMs));
  assert.ok(row.torrentBytes > 2_000 * 30);
  assert.ok(Number.isFinite(row.peakHeapBytes));
});
