import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSwarm } from './run-swarm.js';

test('a slow disk (20 ms per operation, 2 MB/s) bounds the download, and the swarm still completes cleanly', async () => {
  const diskBps = 2_000_000;
  const fileBytes = 32 * 256 * 1024;
  const r = await runSwarm({
    leechers: 6,
    pieces: 32,
    pieceLengthBytes: 256 * 1024,
    // The network is faster than the disk: the disk is the bottleneck.
    seedUploadBps: 20_000_000,
    leecherUploadBps: () => 10_000_000,
    latencyMs: 10,
    seed: 3,
    maxVirtualMs: 600_000,
    disk: () => ({ latencyMs: 20, throughputBps: diskBps }),
  });
  assert.equal(r.completed, 6);
  // Every leecher writes the whole file through its disk, which also serves its uploads.
  const diskBoundMs = (1000 * fileBytes) / diskBps;
  assert.ok(
    r.completionMs >= diskBoundMs,
    `completed in ${r.completionMs} ms, disk alone needs ${diskBoundMs}`,
  );
  assert.ok(r.completionMs < 4 * diskBoundMs, `completed in ${r.completionMs} ms`);
  assert.equal(r.hashFailures, 0);
  assert.equal(r.bans, 0);
});
