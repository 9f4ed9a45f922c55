/**
 * Magnets with no tracker and no peer hint (issue 10): three sessions on loopback, each running
 * a DHT node, a hub node that only routes. The seeder announces through the DHT; the leecher
 * finds it there and downloads from nothing but `magnet:?xt=urn:btih:…`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { magnetFromMetainfo, parseMetainfo, wireInfoHash } from '../../src/metainfo/index.js';
import { Session } from '../../src/session/session.js';
import { MsgId } from '../../src/wire/messages.js';
import { runCli } from '../helpers/cli.js';
import { HostilePeer } from '../helpers/hostile-peer.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent, fixtureBytes } from '../helpers/torrent-fixtures.js';

const tmp = tempDir('peerdrop-dht-');
const sessions: Session[] = [];
after(async () => {
  await Promise.allSettled(sessions.map((s) => s.close()));
  tmp.cleanup();
});

async function dhtSession(bootstrapPort: number | null): Promise<Session> {
  const s = new Session({
    host: '127.0.0.1',
    dht: {
      isLoopbackNetwork: true,
      bootstrap: bootstrapPort === null ? [] : [{ host: '127.0.0.1', port: bootstrapPort }],
    },
  });
  sessions.push(s);
  await s.listen();
  return s;
}

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a magnet link with only an info-hash completes through the DHT', async () => {
  const hub = await dhtSession(null);
  const seeder = await dhtSession(hub.port);
  const leecher = await dhtSession(hub.port);
  assert.ok(hub.dht && seeder.dht && leecher.dht, 'each session runs a DHT node');
  await until(() => seeder.dht!.tableSize() > 0 && leecher.dht!.tableSize() > 0, 10_000, 'bootstrap');

  const data = fixtureBytes(512 * 1024, 11);
  const seedDir = join(tmp.path, 'seed');
  mkdirSync(seedDir);
  writeFileSync(join(seedDir, 'dht.bin'), data);
  // The fixture's tracker (127.0.0.1:1) answers nobody, and the magnet carries no tracker:
  // the DHT is the only way to meet.
  const torrent = buildTorrent([{ path: ['dht.bin'], data }], { name: 'dht.bin', single: true });
  const metainfo = parseMetainfo(torrent);
  const seeded = await seeder.add(torrent, { dir: seedDir });
  await until(() => hub.dht!.stats().torrents > 0, 10_000, 'the seeder to announce to the hub');
  assert.ok(
    seeded.trackers().some((t) => t.source === 'dht'),
    'the DHT is listed as a peer source',
  );

  const magnet = magnetFromMetainfo(metainfo).split('&')[0]!;
  assert.match(magnet, /^magnet:\?xt=urn:btih:[0-9a-f]{40}$/i);
  const dir = join(tmp.path, 'leech');
  mkdirSync(dir);
  const handle = await leecher.add(magnet, { dir });
  await handle.done({ signal: AbortSignal.timeout(30_000) });
  assert.ok(readFileSync(join(dir, 'dht.bin')).equals(Buffer.from(data)));

  // The CLI does the same with nothing but the magnet and a bootstrap node.
  const cliDir = join(tmp.path, 'cli');
  const r = await runCli(
    [
      'get',
      magnet,
      '--dir',
      cliDir,
      '--host',
      '127.0.0.1',
      '--dht-bootstrap',
      `127.0.0.1:${hub.port}`,
      '--json',
    ],
    { timeoutMs: 45_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(join(cliDir, 'dht.bin')).equals(Buffer.from(data)));
  assert.ok(
    r.stdout.split('\n').some((l) => l.includes('"event":"started"') && l.includes('"dht"')),
    'the DHT is named as a peer source',
  );
});

test('--no-dht leaves the DHT out, and a bad --dht-bootstrap is refused', async () => {
  const bad = await runCli(['get', `magnet:?xt=urn:btih:${'cd'.repeat(20)}`, '--dht-bootstrap', '::1:6881']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--dht-bootstrap/);
});

test('BEP 5: a session running the DHT sets the reserved bit and tells DHT peers its UDP port', async () => {
  const s = await dhtSession(null);
  const data = fixtureBytes(32 * 1024, 13);
  const dir = join(tmp.path, 'port-msg');
  mkdirSync(dir);
  writeFileSync(join(dir, 'q.bin'), data);
  const torrent = buildTorrent([{ path: ['q.bin'], data }], { name: 'q.bin', single: true });
  await s.add(torrent, { dir });
  const peer = await HostilePeer.dial(s.port, {
    infoHash: wireInfoHash(parseMetainfo(torrent)),
    features: { extensions: false, fast: false, dht: true, v2: false },
  });
  await peer.waitUntil(() => peer.received.some((r) => r.message.id === MsgId.Port), 5_000);
  assert.equal(peer.receivedHandshake?.features.dht, true, 'the DHT bit is set');
  const port = peer.received.find((r) => r.message.id === MsgId.Port)?.message;
  assert.deepEqual(port, { id: MsgId.Port, port: s.udp!.port });
  peer.destroy();
});

test('private torrents never use the DHT', async () => {
  const s = await dhtSession(null);
  const data = fixtureBytes(32 * 1024, 12);
  const dir = join(tmp.path, 'private');
  mkdirSync(dir);
  writeFileSync(join(dir, 'p.bin'), data);
  const torrent = buildTorrent([{ path: ['p.bin'], data }], {
    name: 'p.bin',
    single: true,
    info: { private: 1 },
  });
  const h = await s.add(torrent, { dir });
  assert.ok(!h.trackers().some((t) => t.source === 'dht'));
  assert.ok(!(h.status().sources ?? []).includes('dht'));
});
