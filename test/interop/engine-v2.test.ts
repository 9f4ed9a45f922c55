import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Session } from '../../src/session/session.js';
import { startLibtorrent } from '../helpers/clients/index.js';
import { diffTrees, writeTree } from '../helpers/content.js';
import { skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';

const skip = skipUnless('libtorrent');
const tmp = tempDir('peerdrop-v2-');
after(() => tmp.cleanup());

/** A torrent made by libtorrent itself (`v2_only` or hybrid `0`) for a small tree. */
function libtorrentTorrent(version: 'v2' | 'hybrid'): { seedDir: string; torrentPath: string } {
  const seedDir = join(tmp.path, `${version}-seed`);
  mkdirSync(seedDir, { recursive: true });
  writeTree(join(seedDir, 'data'), [
    { path: 'a.bin', size: 300_000 },
    { path: 'sub/ünï.bin', size: 70_000 },
    { path: 'sub/small.txt', size: 10 },
  ]);
  const torrentPath = join(tmp.path, `${version}.torrent`);
  const flags = version === 'v2' ? 'lt.create_torrent.v2_only' : '0';
  const script = join(tmp.path, `make-${version}.py`);
  writeFileSync(
    script,
    `import libtorrent as lt, sys\nfs = lt.file_storage()\nlt.add_files(fs, sys.argv[1] + '/data')\nt = lt.create_torrent(fs, 32768, flags=${flags})\nlt.set_piece_hashes(t, sys.argv[1])\nopen(sys.argv[2], 'wb').write(lt.bencode(t.generate()))\n`,
  );
  const r = spawnSync('/usr/bin/python3', [script, seedDir, torrentPath], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { seedDir, torrentPath };
}

describe('BEP 52 torrents made by libtorrent', { skip }, () => {
  for (const version of ['v2', 'hybrid'] as const) {
    test(`peerdrop downloads a libtorrent ${version} torrent from libtorrent, and libtorrent from peerdrop`, {
      timeout: 60_000,
    }, async (t) => {
      const { seedDir, torrentPath } = libtorrentTorrent(version);
      const lt = await startLibtorrent({ mode: 'seed', torrentPath, dir: seedDir });
      t.after(() => lt.stop());
      await lt.waitFor(/SEEDING/, 20_000);
      const session = new Session({ host: '127.0.0.1' });
      t.after(() => session.close());
      const leechDir = join(tmp.path, `${version}-pd`);
      const handle = await session.add(readFileSync(torrentPath), {
        dir: leechDir,
        peers: [`127.0.0.1:${lt.port}`],
      });
      await handle.done({ signal: AbortSignal.timeout(30_000) });
      assert.deepEqual(diffTrees(seedDir, leechDir), []);
      // Now peerdrop seeds what it downloaded to a fresh libtorrent.
      const ltDir = join(tmp.path, `${version}-lt`);
      mkdirSync(ltDir, { recursive: true });
      const leech = await startLibtorrent({
        mode: 'leech',
        torrentPath,
        dir: ltDir,
        peers: [`127.0.0.1:${session.port}`],
      });
      t.after(() => leech.stop());
      await leech.waitFor(/DONE/, 30_000);
      assert.deepEqual(diffTrees(seedDir, ltDir), []);
    });
  }
});
