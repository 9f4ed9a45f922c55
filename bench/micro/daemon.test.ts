import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchDaemon } from './daemon.js';

test('daemon benchmark smoke mode reports every figure', async () => {
  const r = await benchDaemon({ torrents: 12, listRequests: 5, settleMs: 100 });
  assert.equal(r.torrents, 12);
  assert.ok(r.rssIdleEmptyBytes > 10 * 1024 * 1024);
  assert.ok(r.rssIdleLoadedBytes > 10 * 1024 * 1024);
  assert.ok(r.listP99Ms > 0 && r.listP99Ms >= r.listP50Ms);
  assert.ok(r.restartMs > 0 && r.restoreMs >= 0);
  assert.ok(r.rssIdleSeedingBytes > 10 * 1024 * 1024);
  assert.ok(r.listSeedingP99Ms > 0 && r.restartSeedingMs > 0 && r.resumeAllMs > 0);
  assert.equal(r.notSeedingAfterResume, null, 'every resumed torrent seeds');
  assert.equal(r.notSeedingAfterRestart, null, 'every torrent seeds again after the restart');
});
