/**
 * BEP 14 local service discovery and BEP 27 on loopback: sessions that share nothing but an
 * IPv4 multicast group on `lo` (a private port, so a real LSD client on the host cannot answer)
 * find each other; private torrents never appear on the LAN, in the DHT or in PEX.
 * The two-host version (network namespaces, the CLI) is test/integration/lsd-netns.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseLsdAnnounce } from '../../src/discovery/lsd.js';
import { magnetFromMetainfo, parseMetainfo, wireInfoHash } from '../../src/metainfo/index.js';
import { type MulticastGroup, openMulticast } from '../../src/net/multicast.js';
import { Session, type SessionOptions } from '../../src/session/session.js';
import { toHex } from '../../src/util/bytes.js';
import { encodeExtendedHandshake } from '../../src/wire/extension.js';
import { MsgId } from '../../src/wire/messages.js';
import { encodePexMessage } from '../../src/wire/ut-pex.js';
import { HostilePeer } from '../helpers/hostile-peer.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent, fixtureBytes } from '../helpers/torrent-fixtures.js';

const GROUP: MulticastGroup = { address: '239.192.152.143', port: 36_781, family: 'IPv4' };
const LSD = { interfaces: ['lo'], loopback: true, families: ['IPv4' as const], groups: { IPv4: GROUP } };

const tmp = tempDir('peerdrop-lsd-');
const sessions: Session[] = [];
after(async () => {
  await Promise.allSettled(sessions.map((s) => s.close()));
  tmp.cleanup();
});

async function session(options: SessionOptions = {}): Promise<Session> {
  const s = new Session({ host: '127.0.0.1', lsd: LSD, ...options });
  sessions.push(s);
  await s.listen();
  return s;
}

function seedFiles(name: string, bytes: number, seed: number, info: Record<string, number> = {}) {
  const data = fixtureBytes(bytes, seed);
  const dir = join(tmp.path, `seed-${name}`);
  mkdirSync(dir);
  writeFileSync(join(dir, name), data);
  const torrent = buildTorrent([{ path: [name], data }], { name, single: true, info });
  return { data, dir, torrent, metainfo: parseMetainfo(torrent) };
}

/** Every info-hash announced on the test group while `body` runs. */
async function watchGroup(seen: Set<string>, body: () => Promise<void>): Promise<void> {
  const sock = await openMulticast({ group: GROUP, interfaces: ['lo'], loopback: true });
  sock.onMessage((bytes) => {
    const r = parseLsdAnnounce(bytes);
    if (r.ok) for (const ih of r.announce.infoHashes) seen.add(ih);
  });
  try {
    await body();
  } finally {
    await sock.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('two sessions meet by LSD alone and a bare magnet link completes', async () => {
  const seeder = await session();
  const leecher = await session();
  const f = seedFiles('lan.bin', 256 * 1024, 21);
  // The fixture's tracker (127.0.0.1:1) answers nobody, there is no DHT: only LSD can help.
  const seeded = await seeder.add(f.torrent, { dir: f.dir });
  assert.ok(seeded.trackers().some((t) => t.source === 'lsd'));
  const magnet = magnetFromMetainfo(f.metainfo).split('&')[0]!;
  const dir = join(tmp.path, 'leech');
  mkdirSync(dir);
  const handle = await leecher.add(magnet, { dir });
  await handle.done({ signal: AbortSignal.timeout(20_000) });
  assert.ok(readFileSync(join(dir, 'lan.bin')).equals(Buffer.from(f.data)));
  const lsd = handle.trackers().find((t) => t.source === 'lsd');
  assert.ok(lsd && lsd.peers > 0, 'the peer came from LSD');
});

test('BEP 27: a private torrent is never announced by LSD or the DHT; a public one is', async () => {
  const s = await session({ dht: { isLoopbackNetwork: true, bootstrap: [] } });
  const priv = seedFiles('private.bin', 32 * 1024, 22, { private: 1 });
  const pub = seedFiles('public.bin', 32 * 1024, 23);
  const seen = new Set<string>();
  await watchGroup(seen, async () => {
    const hp = await s.add(priv.torrent, { dir: priv.dir });
    const names = hp.trackers().map((t) => t.source);
    assert.ok(!names.includes('lsd') && !names.includes('dht'), names.join(','));
    await s.add(pub.torrent, { dir: pub.dir });
    for (let i = 0; i < 40 && seen.size === 0; i++) await sleep(50);
  });
  assert.ok(seen.has(toHex(wireInfoHash(pub.metainfo))), 'the public torrent was announced');
  assert.ok(!seen.has(toHex(wireInfoHash(priv.metainfo))), 'the private one never');
  assert.equal(s.dht!.stats().torrents, 0, 'nothing announced into our own DHT node');
});

test('BEP 27: a magnet whose metadata turns out private drops LSD and the DHT', async () => {
  const seeder = await session({ lsd: false });
  const leecher = await session({ dht: { isLoopbackNetwork: true, bootstrap: [] } });
  const f = seedFiles('late-private.bin', 32 * 1024, 24, { private: 1 });
  await seeder.add(f.torrent, { dir: f.dir });
  const magnet = `${magnetFromMetainfo(f.metainfo).split('&')[0]!}&x.pe=127.0.0.1:${seeder.port}`;
  const dir = join(tmp.path, 'late');
  mkdirSync(dir);
  const handle = await leecher.add(magnet, { dir });
  const before = handle.trackers().map((t) => t.source);
  assert.ok(before.includes('lsd') && before.includes('dht'), 'a magnet starts with every source');
  await handle.done({ signal: AbortSignal.timeout(20_000) });
  const afterNames = handle.trackers().map((t) => t.source);
  assert.ok(!afterNames.includes('lsd') && !afterNames.includes('dht'), afterNames.join(','));
});

/**
 * Connect to `s`'s torrent and send one ut_pex message naming 3 peers; how many did it learn?
 * `isAdvertised`: whether our extended handshake must list ut_pex (BEP 27, --no-pex: it must
 * not). Unadvertised, the message goes to ut_pex's usual id anyway, which must still be ignored.
 */
async function pexLearned(
  s: Session,
  torrent: Uint8Array,
  dir: string,
  isAdvertised: boolean,
): Promise<number> {
  const handle = await s.add(torrent, { dir });
  const peer = await HostilePeer.dial(s.port, {
    infoHash: wireInfoHash(parseMetainfo(torrent)),
    features: { extensions: true, fast: false, dht: false, v2: false },
  });
  try {
    peer.send({
      id: MsgId.Extended,
      extId: 0,
      payload: encodeExtendedHandshake({ m: new Map([['ut_pex', 1]]), listenPort: 1 }),
    });
    // Our handshake names the id to use for ut_pex; wait for it.
    await peer.waitUntil(() => peer.messages(MsgId.Extended).some((m) => m.extId === 0), 5_000);
    const theirs = peer.messages(MsgId.Extended).find((m) => m.extId === 0)!;
    const listed = /6:ut_pexi(\d+)e/.exec(Buffer.from(theirs.payload).toString('latin1'))?.[1];
    assert.equal(listed !== undefined, isAdvertised, 'our extended handshake lists ut_pex when PEX is on');
    const id = listed ?? '2';
    await sleep(100);
    // Counted once the connection (and its listen address) is known, so only PEX adds to it.
    const before = handle.status().knownPeers ?? 0;
    const added = [1, 2, 3].map((i) => ({ host: `10.9.8.${i}`, port: 6881, flags: 0 }));
    peer.send({ id: MsgId.Extended, extId: Number(id), payload: encodePexMessage({ added, dropped: [] }) });
    await sleep(300);
    assert.ok(!peer.isClosed, 'a valid PEX message is no reason to disconnect');
    return (handle.status().knownPeers ?? 0) - before;
  } finally {
    peer.destroy();
  }
}

test('BEP 11/27: PEX adds peers to a public torrent, never to a private one, and --no-pex turns it off', async () => {
  const s = await session({ lsd: false });
  const pub = seedFiles('pex-public.bin', 16 * 1024, 25);
  const priv = seedFiles('pex-private.bin', 16 * 1024, 26, { private: 1 });
  assert.equal(await pexLearned(s, pub.torrent, pub.dir, true), 3, 'public: learned by PEX');
  assert.equal(await pexLearned(s, priv.torrent, priv.dir, false), 0, 'private: PEX ignored');
  const off = await session({ lsd: false, pex: false });
  const pub2 = seedFiles('pex-off.bin', 16 * 1024, 27);
  assert.equal(await pexLearned(off, pub2.torrent, pub2.dir, false), 0, 'pex: false: PEX ignored');
});

test('BEP 11: the first PEX message comes within seconds of the extended handshake, the next not within a minute', async () => {
  const s = await session({ lsd: false });
  const f = seedFiles('pex-first.bin', 16 * 1024, 28);
  await s.add(f.torrent, { dir: f.dir });
  const options = {
    infoHash: wireInfoHash(f.metainfo),
    features: { extensions: true, fast: false, dht: false, v2: false },
  };
  const hello = (listenPort: number) => ({
    id: MsgId.Extended,
    extId: 0,
    payload: encodeExtendedHandshake({ m: new Map([['ut_pex', 7]]), listenPort }),
  });
  const a = await HostilePeer.dial(s.port, options);
  const b = await HostilePeer.dial(s.port, options);
  try {
    a.send(hello(40_001));
    b.send(hello(40_002));
    const pexTo = (p: HostilePeer) => p.messages(MsgId.Extended).filter((m) => m.extId === 7);
    const t0 = Date.now();
    assert.ok(await a.waitUntil(() => pexTo(a).length > 0, 5_000), 'a PEX message within 5 s (not 60)');
    console.log(`first PEX after ${Date.now() - t0} ms`);
    // It names the other peer by its listen port (an incoming connection's port is ephemeral).
    assert.ok(Buffer.from(pexTo(a)[0]!.payload).includes(Buffer.from([0x9c, 0x42])), 'names port 40002');
    // A third peer arrives: a has news now, but its next message waits for the minute.
    const c = await HostilePeer.dial(s.port, options);
    c.send(hello(40_003));
    await sleep(2_500);
    assert.equal(pexTo(a).length, 1, 'no second PEX message within a minute');
    assert.ok(pexTo(c).length === 1, 'the newcomer got its first message at once');
    c.destroy();
  } finally {
    a.destroy();
    b.destroy();
  }
});
