/**
 * The BEP 14 parser and core under arbitrary input. Oracles: (1) the parser never throws and
 * every accepted announce satisfies the invariants the core relies on; (2) encode → parse is the
 * identity on valid announces; (3) an accepted announce, re-encoded, parses to itself (nothing
 * the parser accepts is lost or changed in a round trip); (4) the core, fed arbitrary datagrams
 * from a few sources, never throws and never reports more peers than its per-source cap allows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  encodeLsdAnnounce,
  LSD_MAX_BYTES,
  LSD_MAX_INFOHASHES,
  type LsdAnnounce,
  LsdCore,
  parseLsdAnnounce,
} from '../src/discovery/lsd.js';
import { fuzzParams } from './fuzz-config.js';

const hex40 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex'));
const cookie = fc.stringMatching(/^[\x21-\x7e]{1,64}$/);
const announce = fc.record({
  family: fc.constantFrom('IPv4' as const, 'IPv6' as const),
  port: fc.integer({ min: 1, max: 65_535 }),
  infoHashes: fc.uniqueArray(hex40, { minLength: 1, maxLength: LSD_MAX_INFOHASHES }),
  cookie,
});

function checkInvariants(a: LsdAnnounce): void {
  assert.ok(Number.isInteger(a.port) && a.port >= 1 && a.port <= 65_535);
  assert.ok(a.infoHashes.length >= 1 && a.infoHashes.length <= LSD_MAX_INFOHASHES);
  assert.equal(new Set(a.infoHashes).size, a.infoHashes.length);
  for (const ih of a.infoHashes) assert.match(ih, /^[0-9a-f]{40}$/);
  if (a.cookie !== null) assert.match(a.cookie, /^[\x21-\x7e]{1,64}$/);
}

function accepted(bytes: Uint8Array): void {
  const r = parseLsdAnnounce(bytes);
  if (!r.ok) return;
  checkInvariants(r.announce);
  const again = parseLsdAnnounce(
    encodeLsdAnnounce({
      family: 'IPv4',
      port: r.announce.port,
      infoHashes: r.announce.infoHashes,
      cookie: r.announce.cookie ?? 'x',
    }),
  );
  assert.ok(again.ok);
  assert.equal(again.announce.port, r.announce.port);
  assert.deepEqual(again.announce.infoHashes, r.announce.infoHashes);
}

test('fuzz: encode → parse is the identity', () => {
  fc.assert(
    fc.property(announce, (a) => {
      const r = parseLsdAnnounce(encodeLsdAnnounce(a));
      assert.ok(r.ok);
      assert.deepEqual(r.announce.infoHashes, a.infoHashes);
      assert.equal(r.announce.port, a.port);
      assert.equal(r.announce.cookie, a.cookie);
    }),
    fuzzParams(),
  );
});

test('fuzz: arbitrary bytes and text never throw; what is accepted is well-formed and round-trips', () => {
  const lines = fc.array(
    fc.oneof(
      fc.constant('BT-SEARCH * HTTP/1.1'),
      fc.constant(''),
      hex40.map((h) => `Infohash: ${h}`),
      fc.integer({ min: -5, max: 70_000 }).map((p) => `Port: ${p}`),
      cookie.map((c) => `cookie: ${c}`),
      fc.string({ maxLength: 40 }),
    ),
    { maxLength: 30 },
  );
  const text = fc
    .tuple(lines, fc.constantFrom('\r\n', '\n', '\r'))
    .map(([ls, sep]) => new TextEncoder().encode(ls.join(sep)));
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: LSD_MAX_BYTES + 10 }), text), (bytes) => accepted(bytes)),
    fuzzParams(),
  );
});

test('fuzz: byte flips, truncations and insertions of valid announces', () => {
  const mutated = fc
    .tuple(
      announce,
      fc.array(
        fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert')),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
    )
    .map(([a, edits]) => {
      let b = [...encodeLsdAnnounce(a)];
      for (const [pos, value, kind] of edits) {
        const i = pos % (b.length + 1);
        if (kind === 'set' && i < b.length) b[i] = value;
        else if (kind === 'cut') b = b.slice(0, i);
        else b.splice(i, 0, value);
      }
      return Uint8Array.from(b);
    });
  fc.assert(
    fc.property(mutated, (bytes) => accepted(bytes)),
    fuzzParams(),
  );
});

test('fuzz: the core never throws and respects its per-source cap', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.oneof(
            fc.uint8Array({ maxLength: 200 }),
            announce.map((a) => encodeLsdAnnounce({ ...a, infoHashes: ['ab'.repeat(20), ...a.infoHashes] })),
          ),
          fc.constantFrom('10.0.0.1', '10.0.0.2', 'fe80::1%eth0', '239.192.152.143', 'ff15::1', 'bogus'),
          fc.integer({ min: 0, max: 30_000 }),
        ),
        { maxLength: 80 },
      ),
      (datagrams) => {
        let now = 0;
        const perSource = new Map<string, number>();
        const core = new LsdCore({
          now: () => now,
          cookie: 'ours',
          families: ['IPv4'],
          send: () => {},
          onPeer: (_ih, p) => perSource.set(p.host, (perSource.get(p.host) ?? 0) + 1),
          maxPerSourcePerMinute: 4,
        });
        core.add('ab'.repeat(20), () => 6881);
        for (const [bytes, host, dt] of datagrams) {
          now += dt;
          core.handleMessage(bytes, { host, port: 6771, family: host.includes(':') ? 'IPv6' : 'IPv4' });
          core.upkeep();
        }
        const minutes = Math.floor(now / 60_000) + 2;
        for (const [host, n] of perSource) {
          assert.ok(!host.startsWith('239.') && !host.startsWith('ff') && host !== 'bogus', host);
          assert.ok(n <= 4 * minutes, `${host}: ${n} peers`);
        }
      },
    ),
    fuzzParams(),
  );
});
