import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestSwarm } from '../../src/index.js';

const LIMIT = 1024 * 1024; // bytes/s
const WINDOW_MS = 10_000;

/** Bytes the leecher received over a 10 s window after a 2 s warm-up. */
async function measure(kind: 'upload' | 'download'): Promise<number> {
  const swarm = await createTestSwarm({
    leechers: 1,
    sizeBytes: 24 * 1024 * 1024,
    files: 1,
    pieceLengthBytes: 64 * 1024,
    ...(kind === 'upload' ? { sessionOptions: { uploadLimit: LIMIT } } : {}),
  });
  try {
    const [handle] = await swarm.start();
    if (kind === 'download') {
      // Only the leecher is limited: restart it with a download limit.
      await swarm.leechers[0]!.close();
    }
    const h =
      kind === 'download'
        ? await (async () => {
            const { Session } = await import('../../src/session/session.js');
            const s = new Session({ host: '127.0.0.1', downloadLimit: LIMIT });
            const hh = await s.add(swarm.torrent, {
              dir: `${swarm.leecherDir(0)}-limited`,
              peers: [`127.0.0.1:${swarm.seeder.port}`],
            });
            return { handle: hh, close: () => s.close() };
          })()
        : { handle: handle!, close: async () => {} };
    try {
      await new Promise((r) => setTimeout(r, 2000));
      const start = h.handle.status().downloadedBytes;
      await new Promise((r) => setTimeout(r, WINDOW_MS));
      return ((h.handle.status().downloadedBytes - start) * 1000) / WINDOW_MS;
    } finally {
      await h.close();
    }
  } finally {
    await swarm.close();
  }
}

test('upload and download limits hold within 10 % over 10 s', async (t) => {
  const [up, down] = await Promise.all([measure('upload'), measure('download')]);
  t.diagnostic(`upload ${(up / LIMIT).toFixed(3)}x limit, download ${(down / LIMIT).toFixed(3)}x limit`);
  assert.ok(Math.abs(up - LIMIT) / LIMIT < 0.1, `upload rate ${up.toFixed(0)} B/s vs limit ${LIMIT}`);
  assert.ok(Math.abs(down - LIMIT) / LIMIT < 0.1, `download rate ${down.toFixed(0)} B/s vs limit ${LIMIT}`);
});
