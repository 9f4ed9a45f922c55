import assert from 'node:assert/strict';
import { test } from 'node:test';
import { skipUnless } from '../../test/helpers/real-clients.js';
import { runTransferBench } from './transfer.js';

test('transfer benchmark smoke mode moves 4 MiB peerdrop → peerdrop through the CLI and reports per-process figures', {
  skip: skipUnless('mktorrent', 'opentracker'),
  timeout: 60_000,
}, async () => {
  const r = await runTransferBench({
    sizeBytes: 4 * 1024 * 1024,
    pairs: [{ seeder: 'peerdrop', leecher: 'peerdrop' }],
  });
  assert.equal(r.sizeBytes, 4 * 1024 * 1024);
  assert.equal(r.results.length, 1);
  const [p] = r.results;
  assert.equal(p!.isOk, true, p!.error);
  assert.equal(p!.pair, 'peerdrop→peerdrop');
  assert.ok(p!.wallSeconds > 0 && Number.isFinite(p!.megabytesPerSecond) && p!.megabytesPerSecond > 0);
  assert.ok(p!.leecherPeakRssMB > 10 && p!.leecherPeakRssMB < 1000, `rss ${p!.leecherPeakRssMB} MB`);
  assert.ok(p!.leecherCpuSecondsPerGiB >= 0);
  // No reference pair ran, so there is nothing to compare with.
  assert.equal(r.fastestReference, null);
  assert.deepEqual(r.ratios, {});
});
