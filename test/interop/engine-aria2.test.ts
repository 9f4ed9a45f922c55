/**
 * peerdrop ↔ aria2 (1.36) on 127.0.0.1, both directions: single file (16 KiB and 4 MiB
 * pieces, short last pieces), a multi-file tree with nested unicode names and a zero-length
 * file, and a selective download of one file. aria2 → peerdrop: peerdrop dials the aria2
 * seeder (`peers`); peerdrop → aria2: aria2 finds the peerdrop seeder through a real
 * opentracker. Bytes on disk are compared with the source.
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
import { startAria2, startOpentracker } from '../helpers/clients/index.js';
import { diffTrees } from '../helpers/content.js';
import { skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';

const skip = skipUnless('aria2c', 'opentracker');
const TRANSFER_TIMEOUT_MS = 60_000;
const tmp = tempDir('peerdrop-engine-aria2-');
const fixtures = new Map<string, EngineFixture>();
let tracker: Awaited<ReturnType<typeof startOpentracker>> | undefined;

function leechDir(label: string): string {
  const dir = join(tmp.path, 'leech', label);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** aria2 seeding `fx`, once it has checked the data (-V) and says so in its summary line. */
async function aria2Seeder(t: { after: (fn: () => Promise<void>) => void }, fx: EngineFixture) {
  const seeder = await startAria2({ mode: 'seed', torrentPath: fx.directTorrentPath, dir: fx.srcDir });
  t.after(() => seeder.stop());
  await seeder.waitFor(/SEED\(/, 30_000); // data checked, seeding (its summary line)
  return seeder;
}

describe('peerdrop ↔ aria2', { skip }, () => {
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
    test(`peerdrop downloads ${id} from an aria2 seeder it dials`, { timeout: 90_000 }, async (t) => {
      const fx = fixtures.get(id)!;
      const aria2 = await aria2Seeder(t, fx);
      const dir = leechDir(`a2-to-pd-${id}`);
      const pd = await startPeerdrop({
        torrentPath: fx.directTorrentPath,
        dir,
        peers: [`127.0.0.1:${aria2.port}`],
      });
      t.after(() => pd.stop());
      await pd.handle.done({ signal: AbortSignal.timeout(TRANSFER_TIMEOUT_MS) });
      assert.deepEqual(diffTrees(fx.srcDir, dir), []);
    });

    test(`aria2 downloads ${id} from a peerdrop seeder found through opentracker`, {
      timeout: 90_000,
    }, async (t) => {
      const fx = fixtures.get(id)!;
      const seeder = await startPeerdrop({ torrentPath: fx.trackerTorrentPath, dir: fx.srcDir });
      t.after(() => seeder.stop());
      await seeder.handle.done({ signal: AbortSignal.timeout(20_000) });
      const dir = leechDir(`pd-to-a2-${id}`);
      const aria2 = await startAria2({ mode: 'leech', torrentPath: fx.trackerTorrentPath, dir });
      t.after(() => aria2.stop());
      assert.equal(await aria2.exited(TRANSFER_TIMEOUT_MS), 0, aria2.output().slice(-3000));
      assert.deepEqual(diffTrees(fx.srcDir, dir), []);
      assert.ok(
        seeder.handle.status().uploadedBytes >= fx.metainfo.totalLengthBytes * 0.9,
        'peerdrop did not serve the data',
      );
    });
  }

  test('peerdrop downloads only the selected file of a multi-file torrent from aria2', {
    timeout: 90_000,
  }, async (t) => {
    const fx = fixtures.get('multi16k')!;
    const aria2 = await aria2Seeder(t, fx);
    const dir = leechDir('a2-to-pd-selective');
    const pd = await startPeerdrop({
      torrentPath: fx.directTorrentPath,
      dir,
      peers: [`127.0.0.1:${aria2.port}`],
      files: [fileIndex(fx, 'nested/deeper/b.bin')],
    });
    t.after(() => pd.stop());
    await pd.handle.done({ signal: AbortSignal.timeout(TRANSFER_TIMEOUT_MS) });
    assert.deepEqual(diffTrees(fx.srcDir, dir, [join(fx.name, 'nested/deeper/b.bin')]), []);
    assert.equal(diffTrees(fx.srcDir, dir, [join(fx.name, 'z-last.bin')]).length, 1);
  });
});
