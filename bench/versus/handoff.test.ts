import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { runHandoffBench } from './handoff.js';

// The receiver runs under /usr/bin/time (Debian package `time`, in .ci/run).
function skipWithoutTime(): string | false {
  if (existsSync('/usr/bin/time')) return false;
  if (process.env.CI === 'true') throw new Error('/usr/bin/time is missing: required in CI');
  return 'missing /usr/bin/time (apt-get install -y time)';
}

test('handoff benchmark smoke mode: 4 MiB encrypted and plaintext through the CLI, both verified, with figures', {
  skip: skipWithoutTime(),
  timeout: 60_000,
}, async () => {
  const r = await runHandoffBench({ sizeBytes: 4 * 1024 * 1024 });
  assert.equal(r.sizeBytes, 4 * 1024 * 1024);
  for (const side of [r.plaintext, r.handoff]) {
    assert.ok(side.wallSeconds > 0 && side.megabytesPerSecond > 0, JSON.stringify(side));
    assert.ok(side.receiverCpuSeconds > 0, JSON.stringify(side));
    assert.ok(Number.isFinite(side.senderCpuSeconds) && side.senderCpuSeconds >= 0, JSON.stringify(side));
    assert.ok(side.receiverPeakRssMB > 10 && side.receiverPeakRssMB < 1000, JSON.stringify(side));
  }
  assert.equal(r.plaintext.side, 'plaintext');
  assert.equal(r.handoff.side, 'handoff');
  assert.ok(r.ratio > 0 && Number.isFinite(r.ratio));
});
