import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../util/random.js';
import { ConnectionBudget, PeerBook, type PeerBookOptions, peerKey } from './peer-book.js';

const addr = (host: string, port = 6881) => ({ host, port });

function book(over: Partial<PeerBookOptions> = {}): PeerBook {
  return new PeerBook({
    random: seededRandom(1),
    maxConnections: 10,
    global: new ConnectionBudget(100),
    ...over,
  });
}

test('deduplicates by ip:port across sources and address spellings', () => {
  const b = book();
  assert.equal(b.add(addr('10.0.0.1'), 'tracker', 0), true);
  b.add(addr('::ffff:10.0.0.1'), 'dht', 0);
  b.add(addr('10.0.0.1', 6882), 'pex', 0);
  assert.equal(b.size, 2);
  assert.deepEqual([...(b.get(addr('10.0.0.1'))?.sources ?? [])], ['tracker', 'dht']);
  assert.equal(peerKey(addr('[FE80::1]')), '[fe80::1]:6881');
});

test('never returns our own address or a banned peer', () => {
  const b = book({ selfAddresses: [addr('192.168.1.5')] });
  assert.equal(b.add(addr('192.168.1.5'), 'pex', 0), false);
  b.add(addr('10.0.0.2'), 'tracker', 0);
  b.add(addr('10.0.0.3'), 'tracker', 0);
  b.ban(addr('10.0.0.2', 1), { reason: 'corrupt-data', atMs: 0, pieces: [7] });
  assert.deepEqual(b.nextToConnect(0, 10), [addr('10.0.0.3')]);
  assert.equal(b.add(addr('10.0.0.2', 9999), 'pex', 0), false, 'ban is by IP');
  assert.deepEqual(b.banEvidence(addr('10.0.0.2'))?.pieces, [7]);
});

test('per-torrent and global limits cap connections', () => {
  const global = new ConnectionBudget(3);
  const a = book({ maxConnections: 2, global });
  const c = book({ maxConnections: 5, global });
  for (let i = 0; i < 5; i++) {
    a.add(addr(`10.0.0.${i}`), 'tracker', 0);
    c.add(addr(`10.0.1.${i}`), 'tracker', 0);
  }
  assert.equal(a.nextToConnect(0, 10).length, 2);
  assert.equal(c.nextToConnect(0, 10).length, 1);
  assert.equal(global.inUse, 3);
  assert.equal(c.acceptIncoming(addr('10.9.9.9'), 0), false);
  a.onConnectFailed(addr('10.0.0.0'), 0);
  assert.equal(global.inUse, 2);
  assert.equal(c.acceptIncoming(addr('10.9.9.9'), 0), true);
});

test('reconnect backoff grows exponentially with jitter and is capped', () => {
  const b = book({ baseBackoffMs: 1000, maxBackoffMs: 60_000 });
  const p = addr('10.0.0.1');
  b.add(p, 'tracker', 0);
  let now = 0;
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    assert.equal(b.nextToConnect(now, 1).length, 1);
    b.onConnectFailed(p, now);
    const next = b.get(p)?.nextAttemptMs ?? 0;
    assert.deepEqual(b.nextToConnect(next - 1, 1), [], 'not before the backoff');
    delays.push(next - now);
    now = next;
  }
  delays.forEach((d, i) => {
    const nominal = Math.min(60_000, 1000 * 2 ** i);
    assert.ok(d >= nominal * 0.5 && d <= nominal * 1.5, `delay ${i}: ${d}`);
  });
});

test('prefers peers that gave useful data and demotes corrupt ones', () => {
  const b = book();
  for (const h of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) b.add(addr(h), 'tracker', 0);
  b.recordUseful(addr('10.0.0.3'), 1 << 20);
  b.recordCorrupt(addr('10.0.0.1'));
  assert.deepEqual(
    b.nextToConnect(0, 3).map((a) => a.host),
    ['10.0.0.3', '10.0.0.2', '10.0.0.1'],
  );
});

test('memory stays bounded under an address flood', () => {
  const b = book({ maxKnown: 100 });
  for (let i = 0; i < 1000; i++) b.add(addr(`10.1.${i >> 8}.${i & 255}`), 'pex', 0);
  assert.equal(b.size, 100);
});

test('on loopback a ban covers ip:port only, so other local peers stay usable', () => {
  const b = book();
  b.ban(addr('127.0.0.1', 7000), { reason: 'corrupt-data', atMs: 0, pieces: [1] });
  assert.equal(b.isBanned(addr('127.0.0.1', 7000)), true);
  assert.equal(b.isBanned(addr('127.0.0.1', 7001)), false);
  assert.equal(b.add(addr('127.0.0.1', 7001), 'tracker', 0), true);
  assert.equal(b.add(addr('127.0.0.1', 7000), 'tracker', 0), false);
});
