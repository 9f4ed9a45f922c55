import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualScheduler } from '../util/clock.js';
import { seededRandom } from '../util/random.js';
import { commonPrefixBits, compareDistance, compliantId, randomIdWithPrefix } from './node-id.js';
import { GOOD_FOR_MS, RoutingTable } from './routing-table.js';

function setup(restrictIps = true) {
  const clock = new VirtualScheduler();
  const rng = seededRandom(3);
  const ownId = rng.bytes(20);
  const table = new RoutingTable({ ownId, clock, restrictIps });
  let ip = 0;
  const nextHost = () => {
    ip++;
    return `${20 + (ip >> 16)}.${(ip >> 8) & 255}.${ip & 255}.1`;
  };
  return { clock, rng, ownId, table, nextHost };
}

test('holds 16k nodes in the far bucket, then splits toward our id', () => {
  const { rng, ownId, table, nextHost } = setup();
  for (let i = 0; i < 2000; i++) {
    table.heardResponse({ id: rng.bytes(20), host: nextHost(), port: 6881 });
  }
  table.assertInvariants();
  // Random ids: half land in bucket 0 (128 places), a quarter in bucket 1 (64)…
  const far = table.all().filter((n) => commonPrefixBits(ownId, n.id) === 0).length;
  assert.equal(far, 128);
  assert.ok(table.bucketCount > 4);
  assert.ok(table.size > 128 + 64 + 32 + 16, `size ${table.size}`);
});

test('one entry per IP, at most 2 per /24 in a bucket', () => {
  const { rng, table, ownId } = setup();
  const far = () => randomIdWithPrefix(ownId, 0, rng.bytes);
  assert.equal(table.heardResponse({ id: far(), host: '20.0.0.1', port: 1 }), 'added');
  assert.equal(table.heardResponse({ id: far(), host: '20.0.0.1', port: 2 }), 'refused');
  assert.equal(table.heardResponse({ id: far(), host: '20.0.0.2', port: 1 }), 'added');
  assert.equal(table.heardResponse({ id: far(), host: '20.0.0.3', port: 1 }), 'refused');
  assert.equal(table.size, 2);
  table.assertInvariants();
});

test('without IP restriction, many nodes share 127.0.0.1', () => {
  const { rng, table } = setup(false);
  for (let p = 1; p <= 50; p++) table.heardResponse({ id: rng.bytes(20), host: '127.0.0.1', port: p });
  assert.equal(table.size, 50);
  table.assertInvariants();
});

test('a known address answering with another id is dropped as a liar', () => {
  const { rng, table } = setup();
  table.heardResponse({ id: rng.bytes(20), host: '20.0.0.1', port: 1 });
  assert.equal(table.heardResponse({ id: rng.bytes(20), host: '20.0.0.1', port: 1 }), 'refused');
  assert.equal(table.size, 0);
});

test('nodes go questionable after 15 minutes, bad after two failures, replaced from the cache', () => {
  const { clock, rng, ownId, table } = setup();
  // Fill bucket 1 (capacity 64) after forcing a split with bucket-0 nodes... use deep ids instead:
  const deep = (i: number) => randomIdWithPrefix(ownId, 30, rng.bytes).map((b, j) => (j === 19 ? i : b));
  const hosts: string[] = [];
  for (let i = 0; i < 200; i++) {
    const host = `${30 + i}.1.1.1`;
    hosts.push(host);
    table.heardResponse({ id: deep(i), host, port: 1 });
  }
  table.assertInvariants();
  const before = table.size;
  const victim = table.all().find((n) => commonPrefixBits(ownId, n.id) === 30)!;
  assert.equal(table.stateOf(victim), 'good');
  clock.advance(GOOD_FOR_MS + 1);
  assert.equal(table.stateOf(victim), 'questionable');
  assert.ok(table.questionable(1000).length === table.size);
  table.failed(victim.host, victim.port);
  table.failed(victim.host, victim.port);
  assert.equal(table.find(victim.host, victim.port), undefined, 'bad node replaced');
  assert.equal(table.size, before);
  table.assertInvariants();
});

test('a full bucket prefers a BEP 42 compliant newcomer over a non-compliant node', () => {
  const { rng, table, ownId } = setup();
  // Fill the far bucket (128) with non-compliant random ids at public addresses.
  let n = 0;
  while (table.size < 128) {
    n++;
    table.heardResponse({
      id: randomIdWithPrefix(ownId, 0, rng.bytes),
      host: `${40 + (n >> 8)}.${n & 255}.0.1`,
      port: 1,
    });
  }
  // The table splits only its last bucket; bucket 0 stays the far half once a second exists.
  table.heardResponse({ id: randomIdWithPrefix(ownId, 1, rng.bytes), host: '99.0.0.1', port: 1 });
  const host = '150.10.20.30';
  let id = compliantId(host, rng.bytes);
  while (commonPrefixBits(ownId, id) !== 0) id = compliantId(host, rng.bytes);
  assert.equal(table.heardResponse({ id, host, port: 1 }), 'added');
  assert.ok(table.find(host, 1)?.isCompliant);
  table.assertInvariants();
});

test('closest returns nodes in distance order', () => {
  const { rng, table, nextHost } = setup();
  for (let i = 0; i < 300; i++) table.heardResponse({ id: rng.bytes(20), host: nextHost(), port: 1 });
  const target = rng.bytes(20);
  const got = table.closest(target, 8);
  assert.equal(got.length, 8);
  for (let i = 1; i < got.length; i++) assert.ok(compareDistance(target, got[i - 1]!.id, got[i]!.id) <= 0);
  const all = table.all().sort((a, b) => compareDistance(target, a.id, b.id));
  assert.deepEqual(
    got.map((g) => g.host),
    all.slice(0, 8).map((g) => g.host),
  );
});

test('questionable sees a node that failed once, and a promoted replacement that went silent, between scans', () => {
  const { clock, rng, ownId, table } = setup();
  const far = () => randomIdWithPrefix(ownId, 0, rng.bytes);
  // Bucket 0 holds 128: 140 far nodes leave 12 in its replacement cache, all heard at t = 0.
  const contacts = Array.from({ length: 140 }, (_, i) => ({
    id: far(),
    host: `${40 + (i >> 8)}.${i & 255}.7.1`,
    port: 1,
  }));
  for (const c of contacts) table.heardResponse(c);
  assert.equal(table.size, 128);
  assert.deepEqual(table.questionable(10), [], 'all good: nothing to ping');
  const [victim] = table.all();
  table.failed(victim!.host, victim!.port);
  assert.deepEqual(
    table.questionable(10).map((e) => e.host),
    [victim!.host],
    'one failure makes it questionable at once',
  );
  // Ten minutes on, every node in the table answers again; the replacements stay as heard at 0.
  clock.advance(10 * 60_000);
  for (const e of table.all()) table.heardResponse(e);
  assert.deepEqual(table.questionable(10), []);
  table.failed(victim!.host, victim!.port);
  table.failed(victim!.host, victim!.port); // bad: a replacement (last heard at t = 0) takes its place
  assert.equal(table.size, 128);
  clock.advance(6 * 60_000); // 16 minutes after the replacement's answer, 6 after the others'
  const silent = table.questionable(10);
  assert.equal(silent.length, 1, 'only the promoted replacement is questionable');
  assert.ok(!table.all().some((e) => e.host === victim!.host));
  table.assertInvariants();
});
