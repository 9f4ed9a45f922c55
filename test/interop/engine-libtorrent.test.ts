/**
 * peerdrop ↔ libtorrent (python3-libtorrent 2.0) on 127.0.0.1, both directions: single file
 * (16 KiB and 4 MiB pieces, short last pieces), a multi-file tree with nested unicode names and
 * a zero-length file, and a selective download of one file. libtorrent → peerdrop connects
 * directly (`peers`); peerdrop → libtorrent finds each other through a real opentracker.
 * Bytes on disk are compared with the source.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type EngineFixture,
  fileIndex,
  prepareFixture,
  standardSpecs,
  startPeerdrop,
  writeTorrents,
} from '../helpers/clients/engine-fixtures.js';
import { startLibtorrent, startOpentracker } from '../helpers/clients/index.js';
import { diffTrees } from '../helpers/content.js';
import { skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';

const skip = skipUnless('libtorrent', 'opentracker');
const TRANSFER_TIMEOUT_MS = 60_000;
const tmp = tempDir('peerdrop-engine-lt-');
const fixtures = new Map<string, EngineFixture>();
let tracker: Awaited<ReturnType<typeof startOpentracker>> | undefined;

function leechDir(label: string): string {
  const dir = join(tmp.path, 'leech', label);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('peerdrop ↔ libtorrent', { skip }, () => {
  before(async () => {
    const prepared = standardSpecs().map((s) => prepareFixture(tmp.path, s));
    tracker = await startOpentracker(prepared.map((p) => p.infoHashHex));
    for (const p of prepared) fixtures.set(p.id, writeTorrents(tmp.path, p, tracker.announceUrl));
  });
  after(async () => {
    await tracker?.stop();
    tmp.cleanup();
  });

  for (const id of ['single16k', 'multi16k', 'single4m']) {
    test(`peerdrop downloads ${id} from a libtorrent seeder it dials`, { timeout: 90_000 }, async (t) => {
      const fx = fixtures.get(id)!;
      const lt = await startLibtorrent({ mode: 'seed', torrentPath: fx.directTorrentPath, dir: fx.srcDir });
      t.after(() => lt.stop());
      await lt.waitFor(/SEEDING/, 30_000);
      const dir = leechDir(`lt-to-pd-${id}`);
      const pd = await startPeerdrop({
        torrentPath: fx.directTorrentPath,
        dir,
        peers: [`127.0.0.1:${lt.port}`],
      });
      t.after(() => pd.stop());
      await pd.handle.done({ signal: AbortSignal.timeout(TRANSFER_TIMEOUT_MS) });
      assert.deepEqual(diffTrees(fx.srcDir, dir), []);
    });

    test(`libtorrent downloads ${id} from a peerdrop seeder found through opentracker`, {
      timeout: 90_000,
    }, async (t) => {
      const fx = fixtures.get(id)!;
      const seeder = await startPeerdrop({ torrentPath: fx.trackerTorrentPath, dir: fx.srcDir });
      t.after(() => seeder.stop());
      await seeder.handle.done({ signal: AbortSignal.timeout(20_000) });
      const dir = leechDir(`pd-to-lt-${id}`);
      const lt = await startLibtorrent({
        mode: 'leech',
        torrentPath: fx.trackerTorrentPath,
        dir,
        maxSeconds: 60,
      });
      t.after(() => lt.stop());
      await lt.waitFor(/DONE/, TRANSFER_TIMEOUT_MS);
      assert.equal(await lt.exited(10_000), 0, lt.output().slice(-2000));
      assert.deepEqual(diffTrees(fx.srcDir, dir), []);
      assert.ok(
        seeder.handle.status().uploadedBytes >= fx.metainfo.totalLengthBytes * 0.9,
        'peerdrop did not serve the data',
      );
    });
  }

  test('peerdrop downloads only the selected file of a multi-file torrent from libtorrent', {
    timeout: 90_000,
  }, async (t) => {
    const fx = fixtures.get('multi16k')!;
    const lt = await startLibtorrent({ mode: 'seed', torrentPath: fx.directTorrentPath, dir: fx.srcDir });
    t.after(() => lt.stop());
    await lt.waitFor(/SEEDING/, 30_000);
    const dir = leechDir('lt-to-pd-selective');
    const wanted = fileIndex(fx, 'nested/deeper/b.bin');
    const pd = await startPeerdrop({
      torrentPath: fx.directTorrentPath,
      dir,
      peers: [`127.0.0.1:${lt.port}`],
      files: [wanted],
    });
    t.after(() => pd.stop());
    await pd.handle.done({ signal: AbortSignal.timeout(TRANSFER_TIMEOUT_MS) });
    assert.deepEqual(diffTrees(fx.srcDir, dir, [join(fx.name, 'nested/deeper/b.bin')]), []);
    // A file sharing no piece with the selection must not have been downloaded.
    assert.equal(diffTrees(fx.srcDir, dir, [join(fx.name, 'z-last.bin')]).length, 1);
  });
});
