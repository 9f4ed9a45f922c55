import assert from 'node:assert/strict';
import { test } from 'node:test';
import { skipUnless } from '../../test/helpers/real-clients.js';
import { benchCreate } from './create.js';

test('create benchmark smoke mode times both tools and reports every figure', {
  skip: skipUnless('mktorrent'),
}, () => {
  const r = benchCreate({ sizeBytes: 4 * 1024 * 1024 + 123, pieceLengthBytes: 256 * 1024, runs: 1 });
  assert.equal(r.peerdropMs.length, 1);
  assert.equal(r.mktorrentMs.length, 1);
  assert.ok(r.peerdropMedianMs > 0 && r.mktorrentMedianMs > 0);
  assert.ok(Number.isFinite(r.ratio) && r.ratio > 0);
  assert.equal(r.isSameInfoHash, true);
  if (r.peerdropPeakRssBytes !== null) assert.ok(r.peerdropPeakRssBytes > 10 * 1024 * 1024);
});
