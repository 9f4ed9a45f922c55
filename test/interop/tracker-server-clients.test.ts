import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decode, isBytes, isDict, isList } from '../../src/bencode/index.js';
import { parseMetainfo } from '../../src/metainfo/index.js';
import { toHex } from '../../src/util/bytes.js';
import { seededRandom } from '../../src/util/random.js';
import { CLI_PATH } from '../helpers/cli.js';
import {
  type RunningClient,
  startAria2,
  startLibtorrent,
  startTransmission,
} from '../helpers/clients/index.js';
import { diffTrees } from '../helpers/content.js';
import { freePort } from '../helpers/ports.js';
import { type Managed, startProcess } from '../helpers/process.js';
import { skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent } from '../helpers/torrent-fixtures.js';

/**
 * Real clients find each other through `peerdrop tracker` on 127.0.0.1: a libtorrent seeder
 * announcing over UDP (BEP 15), an aria2 leecher announcing over HTTP that downloads from it
 * (aria2 speaks UDP trackers only through its DHT socket, which the test keeps off), and
 * Transmission over UDP, which is seen in the tracker's peer list (it will not dial 127.x
 * peers itself, see real-clients.md). The .torrent files differ only in `announce` (outside the
 * info dictionary), so every client is in the same swarm.
 */

const SIZE = 3 * 1024 * 1024 + 12_345;

function pct(bytes: Uint8Array): string {
  return [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

/** Announce as a fake observer peer (dictionary model) and return the peers' ids and ports. */
async function peerList(httpUrl: string, infoHash: Uint8Array): Promise<Array<{ id: string; port: number }>> {
  const q = `info_hash=${pct(infoHash)}&peer_id=-OBSERVER-0123456789&port=1&left=1&compact=0&numwant=50`;
  const res = await fetch(`${httpUrl}?${q}`);
  const d = decode(new Uint8Array(await res.arrayBuffer()));
  // Leave again, so real clients are not handed the observer's fake address.
  await (await fetch(`${httpUrl}?${q}&event=stopped`)).arrayBuffer();
  if (!isDict(d)) throw new Error('not a dict');
  const peers = d.get('peers');
  if (!isList(peers)) throw new Error(`no peer list: ${JSON.stringify([...d.keys()])}`);
  return peers.flatMap((p) => {
    if (!isDict(p)) return [];
    const id = p.get('peer id');
    const port = p.get('port');
    return isBytes(id) && typeof port === 'number' ? [{ id: Buffer.from(id).toString('latin1'), port }] : [];
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('libtorrent (UDP) seeds to aria2 (HTTP) through peerdrop tracker, Transmission (UDP) joins the swarm', {
  skip: skipUnless('libtorrent', 'aria2c', 'transmissionCli'),
  timeout: 60_000,
}, async () => {
  const tmp = tempDir('peerdrop-trk-');
  const running: Managed[] = [];
  try {
    const port = await freePort();
    const httpUrl = `http://127.0.0.1:${port}/announce`;
    const udpUrl = `udp://127.0.0.1:${port}/announce`;
    const data = seededRandom(5).bytes(SIZE);
    data[0] = 0;
    const seedDir = join(tmp.path, 'seed');
    const files = [{ path: ['payload.bin'], data }];
    const common = { name: 'payload.bin', single: true, pieceLength: 256 * 1024 } as const;
    const viaHttp = buildTorrent(files, { ...common, outer: { announce: httpUrl } });
    const viaUdp = buildTorrent(files, { ...common, outer: { announce: udpUrl } });
    const infoHash = parseMetainfo(viaHttp).infoHash!;
    assert.deepEqual(parseMetainfo(viaUdp).infoHash, infoHash, 'same swarm');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(seedDir);
    writeFileSync(join(seedDir, 'payload.bin'), data);
    writeFileSync(join(tmp.path, 'http.torrent'), viaHttp);
    writeFileSync(join(tmp.path, 'udp.torrent'), viaUdp);
    writeFileSync(join(tmp.path, 'allow.txt'), `# the only torrent\n${toHex(infoHash)}\n`);

    const tracker = startProcess(process.execPath, [
      CLI_PATH,
      'tracker',
      '--bind',
      '127.0.0.1',
      '--http-port',
      String(port),
      '--udp-port',
      String(port),
      '--allow-list',
      join(tmp.path, 'allow.txt'),
      '--interval',
      '5',
      '--rate-limit',
      '0',
    ]);
    running.push(tracker);
    await tracker.waitFor(/announce udp:\/\/\S+/, 10_000);

    const seeder: RunningClient = await startLibtorrent({
      mode: 'seed',
      torrentPath: join(tmp.path, 'udp.torrent'),
      dir: seedDir,
      maxSeconds: 55,
    });
    running.push(seeder);
    await seeder.waitFor(/SEEDING/, 20_000);
    await until('libtorrent in the peer list', 15_000, async () =>
      (await peerList(httpUrl, infoHash)).find((p) => p.id.startsWith('-LT') && p.port === seeder.port),
    );

    const leechDir = join(tmp.path, 'leech');
    mkdirSync(leechDir);
    const leecher = await startAria2({
      mode: 'leech',
      torrentPath: join(tmp.path, 'http.torrent'),
      dir: leechDir,
    });
    running.push(leecher);
    const code = await leecher.exited(30_000);
    if (code !== 0) {
      const stats = await (await fetch(`http://127.0.0.1:${port}/stats`)).text();
      assert.fail(`aria2 exited ${code}; tracker stats ${stats}\n${leecher.output().slice(0, 3000)}`);
    }
    assert.deepEqual(diffTrees(seedDir, leechDir), []);

    const trDir = join(tmp.path, 'tr');
    mkdirSync(trDir);
    const transmission = await startTransmission({ torrentPath: join(tmp.path, 'udp.torrent'), dir: trDir });
    running.push(transmission);
    const tr = await until('Transmission in the peer list', 20_000, async () =>
      (await peerList(httpUrl, infoHash)).find((p) => p.id.startsWith('-TR')),
    );
    assert.equal(tr.port, transmission.port);

    const stats = (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as {
      announces: { http: Record<string, number>; udp: Record<string, number> };
      rejects: { http: Record<string, number>; udp: Record<string, number> };
    };
    assert.ok(
      stats.announces.udp.started! >= 2,
      `libtorrent and Transmission over UDP: ${JSON.stringify(stats)}`,
    );
    assert.ok(stats.announces.http.started! >= 1, 'aria2 over HTTP');
    assert.equal(
      stats.rejects.udp['bad-connection-id'],
      0,
      'real clients use their connection ids correctly',
    );
  } finally {
    await Promise.all(running.reverse().map((p) => p.stop()));
    tmp.cleanup();
  }
});
