/**
 * peerdrop ↔ libtorrent with encryption required on both sides: libtorrent with
 * `out_enc_policy`/`in_enc_policy` forced and `allowed_enc_level` RC4 (so it neither sends nor
 * accepts a plaintext handshake), peerdrop over `MseTransport` with policy `require`. Both
 * directions: libtorrent seeds to a peerdrop that dials it, and peerdrop seeds to a libtorrent
 * that dials it. Bytes on disk are compared; the transport's counters prove the connection
 * was MSE and never plaintext. Last, the CLI's default pairing: peerdrop `prefer` dialling a
 * libtorrent with its default settings (encryption enabled, not forced) negotiates MSE.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEncryptedPeerdrop, startLibtorrentForcedRc4 } from '../helpers/clients/encrypted.js';
import {
  type EngineFixture,
  MIB,
  prepareFixture,
  writeTorrents,
} from '../helpers/clients/engine-fixtures.js';
import { startLibtorrent } from '../helpers/clients/index.js';
import { diffTrees } from '../helpers/content.js';
import { skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';

const skip = skipUnless('libtorrent');
const tmp = tempDir('peerdrop-mse-lt-');
let fx: EngineFixture;

function leechDir(label: string): string {
  const dir = join(tmp.path, 'leech', label);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('peerdrop ↔ libtorrent over MSE', { skip, concurrency: true }, () => {
  before(() => {
    const p = prepareFixture(tmp.path, {
      id: 'enc',
      name: 'enc-3m.bin',
      pieceLength: 64 * 1024,
      single: 3 * MIB + 77,
      seed: 21,
    });
    fx = writeTorrents(tmp.path, p, 'http://127.0.0.1:1/announce');
  });
  after(() => tmp.cleanup());

  test('libtorrent (forced RC4) seeds to peerdrop (require), which dials it', {
    timeout: 90_000,
  }, async (t) => {
    const lt = await startLibtorrentForcedRc4({
      mode: 'seed',
      torrentPath: fx.directTorrentPath,
      dir: fx.srcDir,
    });
    t.after(() => lt.stop());
    await lt.waitFor(/SEEDING/, 30_000);
    const dir = leechDir('lt-to-pd');
    const pd = await startEncryptedPeerdrop({
      policy: 'require',
      torrent: readFileSync(fx.directTorrentPath),
      dir,
      peers: [`127.0.0.1:${lt.port}`],
    });
    t.after(() => pd.stop());
    await pd.handle.done({ signal: AbortSignal.timeout(60_000) });
    assert.deepEqual(diffTrees(fx.srcDir, dir), []);
    assert.ok(pd.transport.stats.outgoingEncrypted >= 1, 'peerdrop dialled with MSE');
    assert.equal(pd.transport.stats.outgoingPlaintext, 0);
  });

  test('peerdrop (require) seeds to libtorrent (forced RC4), which dials it', {
    timeout: 90_000,
  }, async (t) => {
    const pd = await startEncryptedPeerdrop({
      policy: 'require',
      torrent: readFileSync(fx.directTorrentPath),
      dir: fx.srcDir,
    });
    t.after(() => pd.stop());
    await pd.handle.done({ signal: AbortSignal.timeout(20_000) });
    const dir = leechDir('pd-to-lt');
    const lt = await startLibtorrentForcedRc4({
      mode: 'leech',
      torrentPath: fx.directTorrentPath,
      dir,
      peers: [`127.0.0.1:${pd.session.port}`],
      maxSeconds: 60,
    });
    t.after(() => lt.stop());
    await lt.waitFor(/DONE/, 70_000);
    assert.equal(await lt.exited(10_000), 0);
    assert.deepEqual(diffTrees(fx.srcDir, dir), []);
    assert.ok(pd.transport.stats.incomingEncrypted >= 1, 'libtorrent connected with MSE');
    assert.equal(pd.transport.stats.incomingPlaintext, 0);
  });

  test('peerdrop (prefer, the CLI default) dials a default libtorrent seeder: MSE is negotiated', {
    timeout: 90_000,
  }, async (t) => {
    const lt = await startLibtorrent({ mode: 'seed', torrentPath: fx.directTorrentPath, dir: fx.srcDir });
    t.after(() => lt.stop());
    await lt.waitFor(/SEEDING/, 30_000);
    const dir = leechDir('lt-default-to-pd-prefer');
    const pd = await startEncryptedPeerdrop({
      policy: 'prefer',
      torrent: readFileSync(fx.directTorrentPath),
      dir,
      peers: [`127.0.0.1:${lt.port}`],
    });
    t.after(() => pd.stop());
    await pd.handle.done({ signal: AbortSignal.timeout(60_000) });
    assert.deepEqual(diffTrees(fx.srcDir, dir), []);
    assert.ok(pd.transport.stats.outgoingEncrypted >= 1, 'libtorrent answered the MSE handshake');
    assert.equal(pd.transport.stats.fallbacks, 0);
  });
});
