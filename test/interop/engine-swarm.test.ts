/**
 * A mixed swarm on 127.0.0.1 around a real opentracker: one libtorrent seeder, and leechers of
 * different clients at once — peerdrop, libtorrent, aria2 (all through the tracker) and
 * Transmission (which will not dial 127.x peers, so the peerdrop leecher dials it and is its
 * only source). Every leecher must end with the source bytes.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  KIB,
  MIB,
  prepareFixture,
  startPeerdrop,
  writeTorrents,
} from '../helpers/clients/engine-fixtures.js';
import {
  startAria2,
  startLibtorrent,
  startOpentracker,
  startTransmission,
} from '../helpers/clients/index.js';
import { diffTrees } from '../helpers/content.js';
import { skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';

const skip = skipUnless('libtorrent', 'aria2c', 'transmissionCli', 'opentracker');
const tmp = tempDir('peerdrop-engine-swarm-');
after(() => tmp.cleanup());

function leechDir(label: string): string {
  const dir = join(tmp.path, 'leech', label);
  mkdirSync(dir, { recursive: true });
  return dir;
}

test('a libtorrent seeder feeds peerdrop, libtorrent, aria2 and Transmission leechers in one swarm', {
  skip,
  timeout: 120_000,
}, async (t) => {
  const prepared = prepareFixture(tmp.path, {
    id: 'swarm',
    name: 'swarm ü.bin',
    pieceLength: 64 * KIB,
    single: 6 * MIB + 4321,
    seed: 21,
  });
  const tracker = await startOpentracker([prepared.infoHashHex]);
  t.after(() => tracker.stop());
  const fx = writeTorrents(tmp.path, prepared, tracker.announceUrl);

  const seeder = await startLibtorrent({ mode: 'seed', torrentPath: fx.trackerTorrentPath, dir: fx.srcDir });
  t.after(() => seeder.stop());
  await seeder.waitFor(/SEEDING/, 30_000);

  const dirs = {
    peerdrop: leechDir('peerdrop'),
    lt: leechDir('lt'),
    aria2: leechDir('aria2'),
    tr: leechDir('tr'),
  };
  const tr = await startTransmission({ torrentPath: fx.trackerTorrentPath, dir: dirs.tr });
  t.after(() => tr.stop());
  const pd = await startPeerdrop({
    torrentPath: fx.trackerTorrentPath,
    dir: dirs.peerdrop,
    peers: [`127.0.0.1:${tr.port}`],
  });
  t.after(() => pd.stop());
  const lt = await startLibtorrent({
    mode: 'leech',
    torrentPath: fx.trackerTorrentPath,
    dir: dirs.lt,
    maxSeconds: 90,
  });
  t.after(() => lt.stop());
  const aria2 = await startAria2({ mode: 'leech', torrentPath: fx.trackerTorrentPath, dir: dirs.aria2 });
  t.after(() => aria2.stop());

  await pd.handle.done({ signal: AbortSignal.timeout(60_000) });
  await lt.waitFor(/DONE/, 60_000);
  assert.equal(await aria2.exited(60_000), 0, aria2.output().slice(-2000));
  // Transmission's only source is peerdrop: it must finish after peerdrop serves it.
  await tr.waitFor(/Seeding/, 60_000);
  await tr.stop();

  for (const [client, dir] of Object.entries(dirs)) {
    assert.deepEqual(diffTrees(fx.srcDir, dir), [], `${client} has different bytes`);
  }
  assert.ok(pd.handle.status().uploadedBytes > 0, 'peerdrop uploaded nothing in the swarm');
});
