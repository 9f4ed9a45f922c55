import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchSqlite, syntheticEntries } from './index.js';

test('index benchmark smoke mode loads 2,000 entries and reports every figure', async () => {
  const r = await benchSqlite(2000, 50);
  assert.equal(r.backend, 'sqlite');
  assert.equal(r.entries, 2000);
  assert.equal(r.searches, 50);
  for (const k of ['publishPerSec', 'bytesPerEntry', 'verifyPerSec'] as const) {
    assert.ok(Number.isFinite(r[k]) && r[k] > 0, `${k} = ${r[k]}`);
  }
  for (const k of ['searchP50Ms', 'searchP99Ms'] as const)
    assert.ok(Number.isFinite(r[k]) && r[k] >= 0, `${k} = ${r[k]}`);
  assert.ok(r.searchP50Ms <= r.searchP99Ms);
});

test('the synthetic generator is deterministic', () => {
  const a = syntheticEntries(3, 5);
  const b = syntheticEntries(3, 5);
  for (let i = 0; i < 3; i++) assert.deepEqual(a(), b());
  assert.equal(a(), null);
});
