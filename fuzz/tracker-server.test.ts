import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeUdpRequest } from '../src/tracker/protocol/udp.js';
import { HttpTrackerHandler } from '../src/tracker/server/http-handler.js';
import { silentLogger } from '../src/tracker/server/log.js';
import { TrackerMetrics } from '../src/tracker/server/metrics.js';
import { IpRateLimiter } from '../src/tracker/server/rate-limit.js';
import { SwarmRegistry } from '../src/tracker/server/swarm-registry.js';
import { ConnectionIds } from '../src/tracker/server/udp-connection-ids.js';
import { UdpTrackerHandler } from '../src/tracker/server/udp-handler.js';
import { ManualClock } from '../src/util/clock.js';
import { seededRandom } from '../src/util/random.js';
import { fuzzParams } from './fuzz-config.js';

/**
 * The tracker server's two entry points fed hostile input: the HTTP handler (request targets
 * of random and near-valid shape) and the UDP handler (random and mutated datagrams). Oracles:
 * nothing throws, every reply is bounded, memory stays under the registry's caps and its
 * invariants hold.
 */

function setup() {
  const clock = new ManualClock(1_000_000);
  const registry = new SwarmRegistry({
    clock,
    random: seededRandom(1),
    maxTorrents: 20,
    maxPeersPerTorrent: 30,
    maxPeers: 100,
  });
  const metrics = new TrackerMetrics(0);
  const rateLimiter = new IpRateLimiter({ clock, ratePerSecond: 0 });
  const rnd = seededRandom(2);
  const connectionIds = new ConnectionIds({ clock, randomBytes: (n) => rnd.bytes(n) });
  const deps = { registry, metrics, rateLimiter, logger: silentLogger, clock };
  return {
    clock,
    registry,
    connectionIds,
    http: new HttpTrackerHandler(deps),
    udp: new UdpTrackerHandler({ ...deps, connectionIds }),
  };
}

const HEX = '0123456789abcdefABCDEF';
const pctByte = fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`);
const queryValue = fc
  .array(
    fc.oneof(pctByte, fc.constantFrom('a', '1', '-', '+', '%', '%z', '=', '&', '\u00ff', '\u0100', '9')),
    {
      maxLength: 30,
    },
  )
  .map((parts) => parts.join(''));
const param = fc.tuple(
  fc.constantFrom(
    'info_hash',
    'peer_id',
    'port',
    'left',
    'uploaded',
    'downloaded',
    'event',
    'numwant',
    'key',
    'compact',
    'no_peer_id',
    'ipv4',
    'ipv6',
    'passkey',
    'trackerid',
    'x',
  ),
  fc.oneof(queryValue, fc.constant(`${'%aa'.repeat(20)}`), fc.integer({ min: -5, max: 70000 }).map(String)),
);
const target = fc
  .tuple(
    fc.constantFrom(
      '/announce',
      '/scrape',
      '/announce/k',
      '/scrape/',
      '/stats',
      '/metrics',
      '/',
      '/x/announce',
    ),
    fc.array(param, { maxLength: 12 }),
    fc.string({ maxLength: 40 }),
  )
  .map(([path, params, junk]) => `${path}?${params.map(([k, v]) => `${k}=${v}`).join('&')}${junk}`);

test('the HTTP handler answers any request target without throwing, with bounded replies', () => {
  const { http, registry } = setup();
  fc.assert(
    fc.property(
      fc.oneof(target, fc.string({ maxLength: 300 }), fc.constant(`/announce?${'a'.repeat(9000)}`)),
      fc.constantFrom('GET', 'POST', 'HEAD', 'BREW'),
      fc.constantFrom('127.0.0.1', '::ffff:10.0.0.1', '2001:db8::1', 'garbage', ''),
      (t, method, remote) => {
        const reply = http.handle(method, t, remote);
        assert.ok(reply.status >= 200 && reply.status < 500);
        assert.ok(reply.body.length < 64 * 1024);
      },
    ),
    fuzzParams(2000),
  );
  registry.assertInvariants();
});

test('the HTTP handler with valid announces from many peers stays within the caps', () => {
  const { http, registry } = setup();
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 1 }),
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.integer({ min: 1, max: 65535 }),
      fc.constantFrom('', '&event=started', '&event=stopped', '&event=completed', '&compact=0'),
      (h, id, port, extra) => {
        const ih = `%${h[0]!.toString(16).padStart(2, '0')}`.repeat(20);
        const pid = [...id].map((b) => `%${HEX[b >> 4]}${HEX[b & 15]}`).join('');
        const reply = http.handle(
          'GET',
          `/announce?info_hash=${ih}&peer_id=${pid}&port=${port}&left=1${extra}`,
          '10.1.1.1',
        );
        assert.equal(reply.status, 200);
      },
    ),
    fuzzParams(2000),
  );
  registry.assertInvariants();
  const totals = registry.totals();
  assert.ok(totals.peers <= 100 && totals.torrents <= 20);
});

test('the UDP handler survives random datagrams: silence or a well-formed reply', () => {
  const { udp, registry } = setup();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2100 }), fc.integer({ min: 1, max: 65535 }), (bytes, port) => {
      const reply = udp.handle(bytes, { host: '127.0.0.1', port });
      if (reply !== null) {
        assert.ok(reply.length >= 8 && reply.length <= 20 + 18 * 200);
      }
    }),
    fuzzParams(3000),
  );
  registry.assertInvariants();
});

test('the UDP handler survives mutated valid packets with a valid connection id', () => {
  const { udp, registry, connectionIds } = setup();
  const from = { host: '10.0.0.7', port: 4444 };
  const connectionId = connectionIds.issue(from.host, from.port);
  const base = encodeUdpRequest({
    action: 'announce',
    connectionId,
    transactionId: 1,
    request: {
      infoHash: new Uint8Array(20).fill(3),
      peerId: new Uint8Array(20).fill(4),
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: 10,
      event: 'started',
    },
    urlData: new TextEncoder().encode('/announce?passkey=abc'),
  });
  assert.equal(udp.handle(base, from)?.[3], 1, 'the unmutated packet is answered as an announce');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 16, max: base.length + 8 }), fc.integer({ min: 0, max: 255 })), {
        maxLength: 8,
      }),
      fc.integer({ min: 16, max: base.length + 8 }),
      (edits, length) => {
        const p = new Uint8Array(length);
        p.set(base.subarray(0, Math.min(length, base.length)));
        for (const [at, v] of edits) if (at < p.length) p[at] = v;
        const reply = udp.handle(p, from);
        if (reply !== null) assert.ok(reply.length >= 8 && reply.length <= 20 + 18 * 200);
      },
    ),
    fuzzParams(3000),
  );
  registry.assertInvariants();
  assert.ok(registry.totals().peers <= 100);
});
