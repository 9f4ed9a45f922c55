import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Session } from '../../src/session/session.js';
import { diffTrees, readTree, standardTree, writeTree } from '../helpers/content.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent } from '../helpers/torrent-fixtures.js';

const tmp = tempDir();
after(() => tmp.cleanup());

function makeSwarmData(name: string, pieceLength: number, version: 'v1' | 'v2' | 'hybrid' = 'v1') {
  const seedDir = join(tmp.path, `${name}-seed`);
  mkdirSync(seedDir, { recursive: true });
  const specs = writeTree(join(seedDir, name), standardTree(pieceLength), 7);
  const torrent = buildTorrent(
    specs.map((s) => ({ path: s.path.split('/'), data: readFileSync(join(seedDir, name, s.path)) })),
    { name, pieceLength, version },
  );
  return { seedDir, torrent };
}

describe('two sessions on loopback', () => {
  test('a leecher downloads a multi-file torrent from a seeder and the bytes match', async (t) => {
    const { seedDir, torrent } = makeSwarmData('multi', 32 * 1024);
    const seeder = new Session({ host: '127.0.0.1' });
    const leecher = new Session({ host: '127.0.0.1' });
    t.after(() => Promise.all([seeder.close(), leecher.close()]));
    const seedHandle = await seeder.add(torrent, { dir: seedDir });
    assert.equal(seedHandle.status().progress, 1, 'the seeder verified its data');
    const leechDir = join(tmp.path, 'multi-leech');
    const handle = await leecher.add(torrent, { dir: leechDir, peers: [`127.0.0.1:${seeder.port}`] });
    await handle.done({ signal: AbortSignal.timeout(20_000) });
    assert.deepEqual(diffTrees(seedDir, leechDir), []);
    assert.equal(readTree(join(leechDir, 'multi')).get('empty.txt')?.length, 0, 'zero-length file created');
  });

  test('peers connect over IPv6 (BEP 7): seeder on ::1, leecher dials [::1]:port', async (t) => {
    const { seedDir, torrent } = makeSwarmData('v6', 16 * 1024);
    const seeder = new Session({ host: '::1' });
    const leecher = new Session({ host: '::1' });
    t.after(() => Promise.all([seeder.close(), leecher.close()]));
    await seeder.add(torrent, { dir: seedDir });
    const leechDir = join(tmp.path, 'v6-leech');
    const handle = await leecher.add(torrent, { dir: leechDir, peers: [`[::1]:${seeder.port}`] });
    await handle.done({ signal: AbortSignal.timeout(20_000) });
    assert.deepEqual(diffTrees(seedDir, leechDir), []);
  });

  for (const version of ['v2', 'hybrid'] as const) {
    test(`a ${version} torrent (BEP 52 piece layers${version === 'hybrid' ? ', BEP 47 padding' : ''}) transfers and verifies`, async (t) => {
      const { seedDir, torrent } = makeSwarmData(`bep52-${version}`, 32 * 1024, version);
      const seeder = new Session({ host: '127.0.0.1' });
      const leecher = new Session({ host: '127.0.0.1' });
      t.after(() => Promise.all([seeder.close(), leecher.close()]));
      const seedHandle = await seeder.add(torrent, { dir: seedDir });
      assert.equal(seedHandle.status().progress, 1, 'existing data verified against the merkle trees');
      const leechDir = join(tmp.path, `bep52-${version}-leech`);
      const handle = await leecher.add(torrent, { dir: leechDir, peers: [`127.0.0.1:${seeder.port}`] });
      await handle.done({ signal: AbortSignal.timeout(20_000) });
      assert.deepEqual(diffTrees(seedDir, leechDir), []);
    });
  }

  test('selecting one file downloads that file only', async (t) => {
    const { seedDir, torrent } = makeSwarmData('select', 16 * 1024);
    const seeder = new Session({ host: '127.0.0.1' });
    const leecher = new Session({ host: '127.0.0.1' });
    t.after(() => Promise.all([seeder.close(), leecher.close()]));
    await seeder.add(torrent, { dir: seedDir });
    const leechDir = join(tmp.path, 'select-leech');
    // files as listed by `peerdrop info`: a.bin, empty.txt, nested/deeper/b.bin, nested/ü…, z-last.bin
    const handle = await leecher.add(torrent, {
      dir: leechDir,
      files: [4],
      peers: [`127.0.0.1:${seeder.port}`],
    });
    await handle.done({ signal: AbortSignal.timeout(20_000) });
    assert.deepEqual(diffTrees(seedDir, leechDir, ['select/z-last.bin']), []);
  });

  test('a restarted leecher resumes from its fast-resume data without re-downloading', async (t) => {
    const { seedDir, torrent } = makeSwarmData('resume', 16 * 1024);
    const seeder = new Session({ host: '127.0.0.1' });
    t.after(() => seeder.close());
    await seeder.add(torrent, { dir: seedDir });
    const leechDir = join(tmp.path, 'resume-leech');
    const first = new Session({ host: '127.0.0.1' });
    const h1 = await first.add(torrent, { dir: leechDir, peers: [`127.0.0.1:${seeder.port}`] });
    await h1.done({ signal: AbortSignal.timeout(20_000) });
    await first.close();
    const second = new Session({ host: '127.0.0.1' });
    t.after(() => second.close());
    const h2 = await second.add(torrent, { dir: leechDir });
    assert.equal(h2.status().progress, 1);
    assert.equal(h2.status().downloadedBytes, 0, 'nothing downloaded again');
    await second.close();
    writeFileSync(join(leechDir, 'resume', 'a.bin'), 'changed behind our back');
    const third = new Session({ host: '127.0.0.1' });
    t.after(() => third.close());
    const h3 = await third.add(torrent, { dir: leechDir });
    assert.ok(h3.status().progress < 1, 'changed data is detected and not trusted');
  });
});
