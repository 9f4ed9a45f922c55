import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchIndex } from './index.js';
import { syntheticEntries } from './workload.js';

test('index benchmark smoke mode loads 2,000 entries and reports every figure', async () => {
  const r = await benchIndex({ store: 'sqlite', entries: 2000, searches: 70 });
  assert.equal(r.store, 'sqlite');
  assert.equal(r.entries, 2000);
  assert.equal(r.searches, 70);
  for (const k of ['publishPerSecond', 'bytesPerEntry', 'verifyPerSecond'] as const)
    assert.ok(Number.isFinite(r[k]) && r[k] > 0, `${k} = ${r[k]}`);
  for (const k of ['p50Ms', 'p99Ms'] as const)
    assert.ok(Number.isFinite(r[k]) && r[k] >= 0, `${k} = ${r[k]}`);
  assert.ok(r.p50Ms <= r.p99Ms);
  for (const kind of ['oneWord', 'twoWords', 'phrase', 'category', 'exclusion', 'sizeFilter'])
    assert.ok(r.perKind[kind] && r.perKind[kind].p50Ms <= r.perKind[kind].p99Ms, kind);
});

test('the synthetic generator is deterministic', () => {
  const a = syntheticEntries(3, 5);
  const b = syntheticEntries(3, 5);
  for (let i = 0; i < 3; i++) assert.deepEqual(a(), b());
  assert.equal(a(), null);
});
