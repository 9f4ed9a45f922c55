import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { magnetFromMetainfo, parseMetainfo } from '../../src/metainfo/index.js';
import { Session } from '../../src/session/session.js';
import { startOpentracker } from '../helpers/clients/index.js';
import { diffTrees, standardTree, writeTree } from '../helpers/content.js';
import { skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent } from '../helpers/torrent-fixtures.js';

const tmp = tempDir();
after(() => tmp.cleanup());

function swarmData(name: string, announce?: string) {
  const seedDir = join(tmp.path, `${name}-seed`);
  mkdirSync(seedDir, { recursive: true });
  const specs = writeTree(join(seedDir, name), standardTree(16 * 1024), 11);
  const torrent = buildTorrent(
    specs.map((s) => ({ path: s.path.split('/'), data: readFileSync(join(seedDir, name, s.path)) })),
    { name, pieceLength: 16 * 1024, ...(announce ? { outer: { announce } } : {}) },
  );
  return { seedDir, torrent, metainfo: parseMetainfo(torrent) };
}

describe('magnet links', () => {
  test('metadata comes from the peer named in x.pe (BEP 9), then the data', async (t) => {
    const { seedDir, torrent, metainfo } = swarmData('xpe');
    const seeder = new Session({ host: '127.0.0.1' });
    const leecher = new Session({ host: '127.0.0.1' });
    t.after(() => Promise.all([seeder.close(), leecher.close()]));
    await seeder.add(torrent, { dir: seedDir });
    const magnet = `${magnetFromMetainfo(metainfo)}&x.pe=127.0.0.1:${seeder.port}`;
    const leechDir = join(tmp.path, 'xpe-leech');
    const handle = await leecher.add(magnet, { dir: leechDir });
    assert.equal(handle.status().state, 'metadata', 'no metadata before peers answer');
    await handle.done({ signal: AbortSignal.timeout(20_000) });
    assert.equal(handle.metainfo?.name, 'xpe');
    assert.deepEqual(diffTrees(seedDir, leechDir), []);
  });

  test('a magnet with only tr= finds the seeder through a real tracker (opentracker)', {
    skip: skipUnless('opentracker'),
  }, async (t) => {
    const { seedDir, torrent, metainfo } = swarmData('trk');
    // Debian's opentracker serves only whitelisted info-hashes.
    const real = await startOpentracker([Buffer.from(metainfo.infoHash!).toString('hex')]);
    t.after(() => real.stop());
    const withTracker = buildWithAnnounce(torrent, real.announceUrl);
    const seeder = new Session({ host: '127.0.0.1' });
    const leecher = new Session({ host: '127.0.0.1' });
    t.after(() => Promise.all([seeder.close(), leecher.close()]));
    await seeder.add(withTracker, { dir: seedDir });
    const magnet = `magnet:?xt=urn:btih:${Buffer.from(metainfo.infoHash!).toString('hex')}&tr=${encodeURIComponent(real.announceUrl)}`;
    const leechDir = join(tmp.path, 'trk-leech');
    const handle = await leecher.add(magnet, { dir: leechDir });
    await handle.done({ signal: AbortSignal.timeout(30_000) });
    assert.deepEqual(diffTrees(seedDir, leechDir), []);
  });
});

/** Same info dict (same info-hash), different outer `announce`. */
function buildWithAnnounce(torrent: Uint8Array, announce: string): Uint8Array {
  const m = parseMetainfo(torrent);
  const info = m.infoBytes;
  const head = new TextEncoder().encode(
    `d8:announce${new TextEncoder().encode(announce).length}:${announce}4:info`,
  );
  return new Uint8Array([...head, ...info, 0x65]);
}
