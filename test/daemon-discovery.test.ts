/**
 * `peerdrop daemon` finds and talks to peers as `get` does: MSE on by default (it downloads from
 * a seeder that refuses plaintext, so the connection can only have been encrypted), the DHT on
 * (its routing table in the daemon's state folder), and `--encryption off --no-dht` turn each
 * off. The Transmission RPC reports what is on, for remote GUIs that show it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DaemonProcess, json, spawnDaemon, waitFor } from './daemon-helpers.js';
import { startEncryptedPeerdrop } from './helpers/clients/encrypted.js';
import { diffTrees, writeTree } from './helpers/content.js';
import { tempDir } from './helpers/tmp.js';
import { buildTorrent } from './helpers/torrent-fixtures.js';

interface RpcReply {
  result: string;
  arguments: Record<string, unknown>;
}

async function rpc(d: DaemonProcess, method: string): Promise<RpcReply> {
  let res = await d.api('/transmission/rpc', json({ method }));
  const sessionId = res.headers.get('x-transmission-session-id');
  if (res.status === 409 && sessionId)
    res = await d.api('/transmission/rpc', {
      ...json({ method }),
      headers: { 'content-type': 'application/json', 'x-transmission-session-id': sessionId },
    });
  assert.equal(res.status, 200);
  return (await res.json()) as RpcReply;
}

describe('peerdrop daemon: encryption and discovery like get', () => {
  const tmp = tempDir('peerdrop-daemon-discovery-');
  const seedDir = join(tmp.path, 'seed');
  let seeder: Awaited<ReturnType<typeof startEncryptedPeerdrop>>;
  const daemons: DaemonProcess[] = [];

  before(async () => {
    mkdirSync(seedDir, { recursive: true });
    writeTree(seedDir, [{ path: 'secret.bin', size: 512 * 1024 + 7 }], 5);
    const torrent = buildTorrent(
      [{ path: ['secret.bin'], data: readFileSync(join(seedDir, 'secret.bin')) }],
      {
        name: 'secret.bin',
        pieceLength: 32 * 1024,
        single: true,
      },
    );
    writeFileSync(join(tmp.path, 'secret.torrent'), torrent);
    seeder = await startEncryptedPeerdrop({ policy: 'require', torrent, dir: seedDir });
  });
  after(async () => {
    for (const d of daemons) await d.stop();
    await seeder.stop();
    tmp.cleanup();
  });

  it('by default: downloads over MSE from a seeder that refuses plaintext, with the DHT on', async () => {
    const dataDir = join(tmp.path, 'data-default');
    const downloads = join(tmp.path, 'downloads-default');
    const d = await spawnDaemon(['--data-dir', dataDir, '--download-dir', downloads, '--peer-port', '0']);
    daemons.push(d);
    const magnet = `magnet:?xt=urn:btih:${seeder.handle.infoHash}&dn=secret.bin&x.pe=127.0.0.1:${seeder.session.port}`;
    const added = await d.api('/api/torrents', json({ magnet }));
    assert.equal(added.status, 201, await added.clone().text());
    await waitFor(
      'the daemon to finish the download from the encrypted-only seeder',
      async () => {
        const list = (await (await d.api('/api/torrents')).json()) as { torrents: { state: string }[] };
        return list.torrents[0]?.state === 'seeding';
      },
      30_000,
    );
    assert.deepEqual(diffTrees(seedDir, downloads), []);
    assert.ok(seeder.transport.stats.incomingEncrypted >= 1, 'the seeder saw an MSE connection');
    const session = await rpc(d, 'session-get');
    assert.equal(session.arguments.encryption, 'preferred');
    assert.equal(session.arguments['dht-enabled'], true);
    assert.equal(session.arguments['pex-enabled'], true);
    await d.stop();
    assert.ok(
      existsSync(join(dataDir, 'session', 'dht.state')),
      'the DHT table is saved in the state folder',
    );
  });

  it('--encryption off --no-dht --no-pex: a plaintext daemon, and the RPC says so', async () => {
    const d = await spawnDaemon([
      '--data-dir',
      join(tmp.path, 'data-off'),
      '--download-dir',
      join(tmp.path, 'downloads-off'),
      '--encryption',
      'off',
      '--no-dht',
      '--no-pex',
    ]);
    daemons.push(d);
    const session = await rpc(d, 'session-get');
    assert.equal(session.arguments.encryption, 'tolerated');
    assert.equal(session.arguments['dht-enabled'], false);
    assert.equal(session.arguments['pex-enabled'], false);
  });
});
