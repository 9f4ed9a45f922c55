/**
 * Transmission (transmission-cli 3.00) with `"encryption": 2` (require) seeding to peerdrop over
 * `MseTransport` with `require`. Transmission will not dial 127.x peers, so peerdrop dials it;
 * Transmission unchokes a new peer only at its ~10 s choke timer. Bytes on disk are compared.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  startEncryptedPeerdrop,
  startTransmissionRequiringEncryption,
} from '../helpers/clients/encrypted.js';
import { MIB, prepareFixture, writeTorrents } from '../helpers/clients/engine-fixtures.js';
import { diffTrees } from '../helpers/content.js';
import { skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';

const skip = skipUnless('transmissionCli');
const tmp = tempDir('peerdrop-mse-tr-');

describe('Transmission (encryption required) → peerdrop (require)', { skip }, () => {
  after(() => tmp.cleanup());

  test('peerdrop downloads from an encryption-requiring Transmission seeder it dials', {
    timeout: 90_000,
  }, async (t) => {
    const p = prepareFixture(tmp.path, {
      id: 'enc',
      name: 'enc-2m.bin',
      pieceLength: 32 * 1024,
      single: 2 * MIB + 5,
      seed: 22,
    });
    const fx = writeTorrents(tmp.path, p, 'http://127.0.0.1:1/announce');
    const tr = await startTransmissionRequiringEncryption({
      torrentPath: fx.directTorrentPath,
      dir: fx.srcDir,
    });
    t.after(() => tr.stop());
    await tr.waitFor(/Seeding/, 30_000);
    const dir = join(tmp.path, 'leech');
    mkdirSync(dir, { recursive: true });
    const pd = await startEncryptedPeerdrop({
      policy: 'require',
      torrent: readFileSync(fx.directTorrentPath),
      dir,
      peers: [`127.0.0.1:${tr.port}`],
    });
    t.after(() => pd.stop());
    await pd.handle.done({ signal: AbortSignal.timeout(60_000) });
    assert.deepEqual(diffTrees(fx.srcDir, dir), []);
    assert.ok(pd.transport.stats.outgoingEncrypted >= 1, 'peerdrop dialled with MSE');
    assert.equal(pd.transport.stats.outgoingPlaintext, 0);
  });
});
