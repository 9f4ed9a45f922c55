import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createTestSwarm } from '../../src/index.js';

test('createTestSwarm: three leechers download from the seeder and from each other', async (t) => {
  const swarm = await createTestSwarm({
    leechers: 3,
    sizeBytes: 2 * 1024 * 1024,
    files: 3,
    pieceLengthBytes: 32 * 1024,
  });
  t.after(() => swarm.close());
  const handles = await swarm.start();
  await Promise.all(handles.map((h) => h.done({ signal: AbortSignal.timeout(30_000) })));
  for (let i = 0; i < 3; i++) {
    for (const f of swarm.metainfo.files) {
      const rel = f.path.join('/');
      assert.ok(
        readFileSync(join(swarm.leecherDir(i), rel)).equals(readFileSync(join(swarm.seedDir, rel))),
        `leecher ${i} ${rel}`,
      );
    }
  }
});

test('pause stops transfers, resume continues from verified pieces, remove forgets the torrent', async (t) => {
  const swarm = await createTestSwarm({
    leechers: 1,
    sizeBytes: 6 * 1024 * 1024,
    files: 2,
    pieceLengthBytes: 64 * 1024,
    sessionOptions: { uploadLimit: 2 * 1024 * 1024 },
  });
  t.after(() => swarm.close());
  const [handle] = await swarm.start();
  const h = handle!;
  while (h.status().verifiedBytes < 1024 * 1024) await new Promise((r) => setTimeout(r, 50));
  await h.pause();
  const paused = h.status().verifiedBytes;
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(h.status().verifiedBytes, paused, 'no progress while paused');
  assert.ok(paused < 6 * 1024 * 1024);
  await h.resume();
  assert.ok(h.status().verifiedBytes >= paused, 'verified pieces kept across pause/resume');
  h.addPeer(`127.0.0.1:${swarm.seeder.port}`);
  await h.done({ signal: AbortSignal.timeout(20_000) });
  assert.equal(h.status().progress, 1);
  await h.remove();
  assert.equal(swarm.leechers[0]!.statuses().length, 0);
});
