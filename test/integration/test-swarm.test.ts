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
