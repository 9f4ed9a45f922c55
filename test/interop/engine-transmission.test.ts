/**
 * peerdrop ↔ Transmission (transmission-cli 3.00) on 127.0.0.1, both directions: single file
 * (16 KiB and 4 MiB pieces, short last pieces), a multi-file tree with nested unicode names and
 * a zero-length file, and a selective download of one file. Transmission will not dial 127.x
 * peers, so peerdrop always dials it (`peers` / `addPeer`). Transmission unchokes a new peer
 * only at its ~10 s choke timer, so the cases run concurrently. Bytes on disk are compared.
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
import { startTransmission } from '../helpers/clients/index.js';
import { diffTrees } from '../helpers/content.js';
import { skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';

const skip = skipUnless('transmissionCli');
const TRANSFER_TIMEOUT_MS = 60_000;
const tmp = tempDir('peerdrop-engine-tr-');
const fixtures = new Map<string, EngineFixture>();

function leechDir(label: string): string {
  const dir = join(tmp.path, 'leech', label);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Transmission seeding `fx` from its source folder, once it reports "Seeding". */
async function transmissionSeeder(t: { after: (fn: () => Promise<void>) => void }, fx: EngineFixture) {
  const tr = await startTransmission({ torrentPath: fx.directTorrentPath, dir: fx.srcDir });
  t.after(() => tr.stop());
  await tr.waitFor(/Seeding/, 30_000);
  return tr;
}

describe('peerdrop ↔ Transmission', { skip, concurrency: true }, () => {
  before(() => {
    for (const s of standardSpecs()) {
      const p = prepareFixture(tmp.path, s);
      fixtures.set(p.id, writeTorrents(tmp.path, p, 'http://127.0.0.1:1/announce'));
    }
  });
  after(() => tmp.cleanup());

  for (const id of ['single16k', 'multi16k', 'single4m']) {
    test(`peerdrop downloads ${id} from a Transmission seeder it dials`, { timeout: 90_000 }, async (t) => {
      const fx = fixtures.get(id)!;
      const tr = await transmissionSeeder(t, fx);
      const dir = leechDir(`tr-to-pd-${id}`);
      const pd = await startPeerdrop({
        torrentPath: fx.directTorrentPath,
        dir,
        peers: [`127.0.0.1:${tr.port}`],
      });
      t.after(() => pd.stop());
      await pd.handle.done({ signal: AbortSignal.timeout(TRANSFER_TIMEOUT_MS) });
      assert.deepEqual(diffTrees(fx.srcDir, dir), []);
    });

    test(`Transmission downloads ${id} from a peerdrop seeder that dials it`, {
      timeout: 90_000,
    }, async (t) => {
      const fx = fixtures.get(id)!;
      const seeder = await startPeerdrop({ torrentPath: fx.directTorrentPath, dir: fx.srcDir });
      t.after(() => seeder.stop());
      await seeder.handle.done({ signal: AbortSignal.timeout(20_000) });
      const dir = leechDir(`pd-to-tr-${id}`);
      const tr = await startTransmission({ torrentPath: fx.directTorrentPath, dir });
      t.after(() => tr.stop());
      await tr.waitFor(/Progress: /, 15_000); // listening and checking done
      seeder.handle.addPeer(`127.0.0.1:${tr.port}`);
      await tr.waitFor(/Seeding/, TRANSFER_TIMEOUT_MS);
      await tr.stop();
      // Transmission does not create zero-length files; every file with data must match.
      const withData = fx.files
        .filter((f) => f.size > 0)
        .map((f) => (fx.metainfo.isSingleFile ? f.path : join(fx.name, f.path)));
      assert.deepEqual(diffTrees(fx.srcDir, dir, withData), []);
    });
  }

  test('peerdrop downloads only the selected file of a multi-file torrent from Transmission', {
    timeout: 90_000,
  }, async (t) => {
    const fx = fixtures.get('multi16k')!;
    const tr = await transmissionSeeder(t, fx);
    const dir = leechDir('tr-to-pd-selective');
    const pd = await startPeerdrop({
      torrentPath: fx.directTorrentPath,
      dir,
      peers: [`127.0.0.1:${tr.port}`],
      files: [fileIndex(fx, 'nested/deeper/b.bin')],
    });
    t.after(() => pd.stop());
    await pd.handle.done({ signal: AbortSignal.timeout(TRANSFER_TIMEOUT_MS) });
    assert.deepEqual(diffTrees(fx.srcDir, dir, [join(fx.name, 'nested/deeper/b.bin')]), []);
    assert.equal(diffTrees(fx.srcDir, dir, [join(fx.name, 'z-last.bin')]).length, 1);
  });
});
