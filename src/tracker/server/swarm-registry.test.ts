import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../util/clock.js';
import { seededRandom } from '../../util/random.js';
import type { AnnounceEvent, AnnounceRequest } from '../protocol/announce.js';
import { peerEndpoint } from './swarm-address.js';
import { SwarmRegistry } from './swarm-registry.js';
import type { AnnounceResult, AnnounceSource, RegistryOptions } from './swarm-types.js';

const HASH_A = new Uint8Array(20).fill(0xaa);
const HASH_B = new Uint8Array(20).fill(0xbb);

function peerId(n: number): Uint8Array {
  const id = new Uint8Array(20);
  id.set([0x2d, 0x50, 0x44, 0x30]); // "-PD0"
  new DataView(id.buffer).setUint32(16, n);
  return id;
}

function req(n: number, over: Partial<AnnounceRequest> = {}): AnnounceRequest {
  return {
    infoHash: HASH_A,
    peerId: peerId(n),
    port: 10_000 + n,
    uploaded: 0,
    downloaded: 0,
    left: 100,
    event: 'started' as AnnounceEvent,
    ...over,
  };
}

const v4 = (host = '10.0.0.1'): AnnounceSource => ({ host, family: 4 });

function setup(options: Partial<RegistryOptions> = {}) {
  const clock = new ManualClock(1_000_000);
  const registry = new SwarmRegistry({ clock, random: seededRandom(7), intervalSeconds: 60, ...options });
  const announce = (r: AnnounceRequest, from: AnnounceSource = v4()): AnnounceResult => {
    const res = registry.announce(r, from);
    if (!res.ok) throw new Error(`rejected: ${res.reason}`);
    return res;
  };
  return { clock, registry, announce };
}

function ports(res: AnnounceResult): number[] {
  return res.peers.map((p) => peerEndpoint(p).port).sort((a, b) => a - b);
}

test('the requester never receives itself, by peer id or by ip:port', () => {
  const { registry, announce } = setup();
  announce(req(1));
  announce(req(2));
  // Same address and port as peer 1 but a new peer id (a restarted client): not sent to itself.
  const res = announce(req(3, { port: 10_001 }));
  assert.deepEqual(ports(res), [10_002]);
  const again = announce(req(1, { event: 'none' }));
  assert.deepEqual(ports(again), [10_002]);
  assert.deepEqual([...again.compactPeers], [10, 0, 0, 1, 10_002 >> 8, 10_002 & 0xff], 'wire bytes match');
  registry.assertInvariants();
});

test('a seeder is sent leechers only, a leecher gets seeders and leechers', () => {
  const { registry, announce } = setup();
  announce(req(1, { left: 0 }));
  announce(req(2, { left: 0 }));
  announce(req(3));
  const seederView = announce(req(4, { left: 0 }));
  assert.deepEqual(ports(seederView), [10_003]);
  const leecherView = announce(req(5));
  assert.deepEqual(ports(leecherView), [10_001, 10_002, 10_003, 10_004]);
  assert.equal(leecherView.complete, 3);
  assert.equal(leecherView.incomplete, 2);
  registry.assertInvariants();
});

test('numwant is capped and the default applies when absent', () => {
  const { announce } = setup({ defaultNumWant: 5, maxNumWant: 8 });
  for (let i = 1; i <= 30; i++) announce(req(i));
  assert.equal(announce(req(100)).peers.length, 5);
  assert.equal(announce(req(101, { numWant: 1000 })).peers.length, 8);
  assert.equal(announce(req(102, { numWant: 0 })).peers.length, 0);
});

test('selection is random and without repeats across the whole swarm', () => {
  const { announce, registry } = setup();
  for (let i = 1; i <= 200; i++) announce(req(i));
  const seen = new Set<number>();
  for (let round = 0; round < 20; round++) {
    const res = announce(req(500, { numWant: 20, event: 'none' }));
    const list = ports(res);
    assert.equal(new Set(list).size, list.length, 'no duplicates in one response');
    for (const p of list) seen.add(p);
  }
  assert.ok(seen.size > 100, `20 random picks of 20 should cover most of 200 peers, got ${seen.size}`);
  // Shrink the swarm below a quarter of its list capacity: the lists shrink and stay consistent.
  for (let i = 1; i <= 190; i++) announce(req(i, { event: 'stopped' }));
  const rest = announce(req(500, { numWant: 50, event: 'none' }));
  assert.deepEqual(
    ports(rest),
    [10_191, 10_192, 10_193, 10_194, 10_195, 10_196, 10_197, 10_198, 10_199, 10_200],
  );
  assert.equal(rest.compactPeers.length, 60);
  registry.assertInvariants();
});

test('completed is counted once per peer, and stopped removes the peer', () => {
  const { registry, announce } = setup();
  announce(req(1));
  announce(req(1, { event: 'completed', left: 0 }));
  announce(req(1, { event: 'completed', left: 0 }));
  announce(req(2, { event: 'completed', left: 0 }));
  let [stats] = registry.swarmStats([HASH_A]);
  assert.deepEqual(stats, { infoHash: HASH_A, complete: 2, incomplete: 0, downloaded: 2 });
  const stopped = announce(req(1, { event: 'stopped', left: 0 }));
  assert.equal(stopped.peers.length, 0);
  [stats] = registry.swarmStats([HASH_A]);
  assert.equal(stats?.complete, 1);
  assert.equal(stats?.downloaded, 2, 'completed survives the peer leaving');
  assert.deepEqual(registry.swarmStats([HASH_B]), [null]);
  registry.assertInvariants();
});

test('peers that miss their announces expire and are never returned, even before a sweep', () => {
  const { clock, registry, announce } = setup({ peerTimeoutMs: 120_000 });
  announce(req(1));
  clock.advance(100_000);
  announce(req(2));
  clock.advance(30_000); // peer 1 is now 130 s old, peer 2 30 s
  assert.deepEqual(ports(announce(req(3))), [10_002]);
  assert.equal(registry.sweep(), 1);
  assert.equal(registry.totals().peers, 2);
  clock.advance(200_000);
  assert.equal(registry.sweep(), 2);
  assert.equal(registry.totals().torrents, 0, 'an empty idle torrent is dropped');
  registry.assertInvariants();
});

test('caps on peers per torrent and total peers evict the stalest peers', () => {
  const { clock, registry, announce } = setup({ maxPeersPerTorrent: 3, maxPeers: 5 });
  for (let i = 1; i <= 4; i++) {
    announce(req(i));
    clock.advance(1000);
  }
  assert.deepEqual(
    registry.swarmStats([HASH_A]).map((s) => s?.incomplete),
    [3],
  );
  // Peer 1 was the stalest and is gone: a fresh announce lists 2, 3, 4 minus itself.
  assert.deepEqual(ports(announce(req(4, { event: 'none' }))), [10_002, 10_003]);
  announce(req(10, { infoHash: HASH_B }));
  announce(req(11, { infoHash: HASH_B }));
  assert.equal(registry.totals().peers, 5);
  clock.advance(1000);
  announce(req(12, { infoHash: HASH_B })); // total cap: evicts from the stalest torrent (A)
  assert.equal(registry.totals().peers, 5);
  assert.equal(registry.swarmStats([HASH_A])[0]?.incomplete, 2);
  assert.ok(registry.evictions >= 2);
  registry.assertInvariants();
});

test('at the torrent cap a new info-hash is refused with a reason and tracked swarms stay', () => {
  const { clock, registry, announce } = setup({ maxTorrents: 2, peerTimeoutMs: 120_000 });
  announce(req(1));
  announce(req(2, { infoHash: HASH_B }));
  const hashC = new Uint8Array(20).fill(0xcc);
  const refused = registry.announce(req(3, { infoHash: hashC }), v4());
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.reason, 'torrent-limit');
  assert.match(!refused.ok ? refused.message : '', /tracker is full/);
  assert.equal(registry.torrentLimitRejects, 1);
  assert.equal(registry.totals().torrents, 2);
  assert.notDeepEqual(registry.swarmStats([HASH_A]), [null], 'the tracked torrent was not evicted');
  // Known torrents still take new peers at the cap.
  assert.equal(announce(req(4)).peers.length, 1);
  // A torrent whose only peer stopped is gone at once, which makes room.
  announce(req(2, { infoHash: HASH_B, event: 'stopped' }));
  assert.equal(registry.totals().torrents, 1);
  announce(req(3, { infoHash: hashC }));
  // A torrent whose peers all expired (not yet swept) makes room too.
  clock.advance(200_000);
  announce(req(1, { event: 'none' }));
  const hashD = new Uint8Array(20).fill(0xdd);
  announce(req(5, { infoHash: hashD }));
  assert.deepEqual(registry.swarmStats([hashC]), [null]);
  registry.assertInvariants();
});

test('a torrent exists only while it has a peer; its completed count outlives it', () => {
  const { registry, announce } = setup();
  announce(req(1));
  announce(req(1, { event: 'completed', left: 0 }));
  announce(req(1, { event: 'stopped', left: 0 }));
  assert.equal(registry.totals().torrents, 0);
  assert.equal(registry.totals().peers, 0);
  // A stopped for an unknown torrent or peer creates nothing.
  announce(req(9, { infoHash: HASH_B, event: 'stopped' }));
  assert.equal(registry.totals().torrents, 0);
  announce(req(2));
  assert.equal(registry.swarmStats([HASH_A])[0]?.downloaded, 1, 'BEP 48 downloaded survives');
  registry.assertInvariants();
});

test('a solo peer becomes a listed peer when a second arrives, in either family', () => {
  const { registry, announce } = setup();
  announce(req(1, { left: 0 }));
  assert.equal(announce(req(1, { event: 'none', left: 0 })).peers.length, 0, 'alone: nobody to send');
  assert.deepEqual(registry.totals(), { torrents: 1, peers: 1, seeders: 1, leechers: 0 });
  const six = announce(req(2), { host: '2001:db8::1', family: 6 });
  assert.equal(six.peers.length, 0, 'an IPv6 leecher is not sent the IPv4 seeder');
  assert.equal(six.complete, 1);
  assert.equal(ports(announce(req(3))).length, 1, 'an IPv4 leecher gets the former solo seeder');
  announce(req(1, { event: 'none' })); // the seeder turns leecher after leaving solo
  assert.deepEqual(registry.totals(), { torrents: 1, peers: 3, seeders: 0, leechers: 3 });
  registry.assertInvariants();
});

test('totals are running counters that agree with the swarms after random churn', () => {
  const { clock, registry } = setup({ maxTorrents: 50, maxPeers: 200, maxPeersPerTorrent: 20 });
  const rnd = seededRandom(99);
  const events: AnnounceEvent[] = ['started', 'none', 'completed', 'stopped', 'stopped'];
  for (let i = 0; i < 5000; i++) {
    const h = new Uint8Array(20).fill(1 + Math.floor(rnd.next() * 80));
    const n = Math.floor(rnd.next() * 40);
    const fam = rnd.next() < 0.3;
    const from: AnnounceSource = fam ? { host: `2001:db8::${n + 1}`, family: 6 } : v4(`10.0.1.${n + 1}`);
    registry.announce(
      req(n, {
        infoHash: h,
        event: events[Math.floor(rnd.next() * events.length)]!,
        left: rnd.next() < 0.4 ? 0 : 9,
      }),
      from,
    );
    if (i % 500 === 0) {
      clock.advance(60_000);
      registry.sweep();
    }
    if (i % 250 === 0) registry.assertInvariants();
  }
  const t = registry.totals();
  const stats = [...Array(80).keys()].map((k) => registry.swarmStats([new Uint8Array(20).fill(k + 1)])[0]);
  const seeders = stats.reduce((sum, st) => sum + (st?.complete ?? 0), 0);
  const leechers = stats.reduce((sum, st) => sum + (st?.incomplete ?? 0), 0);
  assert.equal(t.seeders, seeders);
  assert.equal(t.leechers, leechers);
  assert.ok(t.torrents <= 50);
  registry.assertInvariants();
});

test('allow-list mode refuses unknown info-hashes and a reload drops delisted torrents', () => {
  const { registry, announce } = setup({ allowList: [HASH_A] });
  announce(req(1));
  const refused = registry.announce(req(2, { infoHash: HASH_B }), v4());
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.reason, 'not-allowed');
  registry.setAllowList([HASH_B]);
  assert.deepEqual(registry.swarmStats([HASH_A]), [null]);
  assert.equal(registry.announce(req(2, { infoHash: HASH_B }), v4()).ok, true);
  registry.assertInvariants();
});

test('private mode needs a known passkey', () => {
  const { registry } = setup({ passkeys: ['s3cret'] });
  const none = registry.announce(req(1), v4());
  assert.equal(!none.ok && none.reason, 'unknown-passkey');
  const wrong = registry.announce(req(1), { ...v4(), passkey: 'guess' });
  assert.equal(!wrong.ok && wrong.message, 'unknown passkey');
  assert.equal(registry.announce(req(1), { ...v4(), passkey: 's3cret' }).ok, true);
  assert.equal(registry.admit(null, 's3cret'), null);
});

test('a peer that changes IP keeps its identity with the same key; another key is rejected', () => {
  const { registry, announce } = setup();
  announce(req(1, { key: 0x1234 }), v4('10.0.0.1'));
  announce(req(2), v4('10.0.0.2'));
  const moved = announce(req(1, { key: 0x1234, event: 'none' }), v4('10.0.0.9'));
  assert.equal(registry.totals().peers, 2, 'moved, not duplicated');
  assert.deepEqual(
    moved.peers.map((p) => peerEndpoint(p).host),
    ['10.0.0.2'],
  );
  const hijack = registry.announce(req(1, { key: 0x9999, event: 'stopped' }), v4('10.6.6.6'));
  assert.equal(!hijack.ok && hijack.reason, 'key-mismatch');
  const noKey = registry.announce(req(2, { event: 'stopped' }), v4('10.6.6.6'));
  assert.equal(!noKey.ok && noKey.reason, 'key-mismatch', 'a peer without a key cannot be moved');
  const view = announce(req(3));
  assert.deepEqual(view.peers.map((p) => peerEndpoint(p).host).sort(), ['10.0.0.2', '10.0.0.9']);
  registry.assertInvariants();
});

test('IPv4 and IPv6 peers are kept apart but counted together', () => {
  const { registry, announce } = setup();
  announce(req(1), v4('10.0.0.1'));
  announce(req(2), { host: '2001:db8::1', family: 6 });
  const six = announce(req(3), { host: '2001:db8::2', family: 6 });
  assert.deepEqual(
    six.peers.map((p) => peerEndpoint(p).host),
    ['2001:db8::1'],
  );
  assert.equal(six.peers[0]?.compact.length, 18);
  assert.equal(six.incomplete, 3);
  const four = announce(req(4), v4('10.0.0.4'));
  assert.deepEqual(
    four.peers.map((p) => peerEndpoint(p).host),
    ['10.0.0.1'],
  );
  // The same peer id over both families is two entries (dual-stack clients announce twice).
  announce(req(1), { host: '2001:db8::9', family: 6 });
  assert.equal(registry.totals().peers, 5);
  registry.assertInvariants();
});

test('a leecher that becomes a seeder moves lists and is no longer sent seeders', () => {
  const { registry, announce } = setup();
  announce(req(1, { left: 0 }));
  announce(req(2));
  announce(req(3));
  assert.deepEqual(ports(announce(req(3, { event: 'none' }))), [10_001, 10_002]);
  assert.deepEqual(ports(announce(req(3, { event: 'completed', left: 0 }))), [10_002]);
  assert.deepEqual(registry.totals(), { torrents: 1, peers: 3, seeders: 2, leechers: 1 });
  registry.assertInvariants();
});

test('many random announces keep the invariants', () => {
  const { clock, registry } = setup({ maxPeersPerTorrent: 40, maxPeers: 150, maxTorrents: 6 });
  const rnd = seededRandom(99);
  const events: AnnounceEvent[] = ['none', 'started', 'completed', 'stopped'];
  for (let i = 0; i < 5000; i++) {
    const hash = new Uint8Array(20).fill(rnd.int(8));
    registry.announce(
      req(rnd.int(300), {
        infoHash: hash,
        left: rnd.int(3) === 0 ? 0 : 5,
        event: events[rnd.int(4)]!,
        key: rnd.int(2),
        numWant: rnd.int(60),
      }),
      rnd.int(4) === 0 ? { host: `2001:db8::${rnd.int(5) + 1}`, family: 6 } : v4(`10.0.0.${rnd.int(5) + 1}`),
    );
    clock.advance(rnd.int(2000));
    if (i % 500 === 0) registry.sweep();
  }
  registry.assertInvariants();
  const totals = registry.totals();
  assert.ok(totals.peers <= 150 && totals.torrents <= 6);
});
