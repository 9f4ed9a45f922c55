import assert from 'node:assert/strict';
import { test } from 'node:test';
import { skipUnless } from '../../test/helpers/real-clients.js';
import { runMagnetDht } from './magnet-dht.js';

test('magnet-dht smoke mode: peerdrop and libtorrent each fetch 1 MiB from a bare magnet over a loopback DHT', {
  skip: skipUnless('libtorrent'),
  timeout: 120_000,
}, async () => {
  const r = await runMagnetDht({ sizeBytes: 1024 * 1024, runs: 1, timeoutMs: 40_000 });
  for (const c of [r.peerdrop, r.libtorrent]) {
    assert.equal(c.runs.length, 1);
    assert.ok(c.metadataSeconds > 0 && c.metadataSeconds <= c.completeSeconds, JSON.stringify(c));
  }
  assert.ok(Number.isFinite(r.ratios.metadata) && r.ratios.metadata > 0);
  assert.ok(Number.isFinite(r.ratios.complete) && r.ratios.complete > 0);
});
