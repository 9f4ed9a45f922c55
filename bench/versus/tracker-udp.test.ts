import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTrackerUdpBench } from './tracker-udp.js';

test('tracker UDP benchmark smoke mode: a tiny swarm against peerdrop only reports rates, CPU and memory', {
  timeout: 60_000,
}, async () => {
  const r = await runTrackerUdpBench({
    swarm: { torrents: 5, peersPerTorrent: 20 },
    steadySeconds: 1,
    only: ['peerdrop'],
  });
  assert.equal(r.rows.length, 1);
  const row = r.rows[0]!;
  assert.equal(row.tracker, 'peerdrop');
  assert.equal(row.skipped, undefined);
  assert.equal(row.load?.answered, 100, 'every synthetic peer announced once');
  assert.equal(row.load?.errors, 0);
  assert.ok(row.steady!.answered > 0 && row.steady!.announcesPerSecond > 0);
  assert.ok(row.steady!.peersReturned > 0, 'announce responses carry peers');
  assert.equal(row.process?.peers, 100);
  assert.equal(r.ratios.vsOpentracker, null, 'no ratio without the other tracker');
  assert.ok(r.memory !== null && r.memory.heapBytesPer100kPeers > 0);
});
