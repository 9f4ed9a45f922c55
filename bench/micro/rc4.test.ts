import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runRc4Bench } from './rc4.js';

test('rc4 micro-benchmark runs in smoke mode and reports positive rates', () => {
  const r = runRc4Bench(2);
  assert.ok(r.encryptMBps > 0 && Number.isFinite(r.encryptMBps));
  assert.ok(r.decryptMBps > 0 && Number.isFinite(r.decryptMBps));
  assert.ok(r.jsDecryptMBps > 0 && Number.isFinite(r.jsDecryptMBps));
});
