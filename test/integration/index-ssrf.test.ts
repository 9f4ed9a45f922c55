import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import {
  GuardedScrapeTransport,
  HealthUpdater,
  TrackerScrapeHealthSource,
} from '../../src/index-server/health.js';
import { SqliteIndexStore } from '../../src/index-server/sqlite-store.js';
import { sampleEntry } from '../../src/index-server/store.conformance.js';
import { refusedAddress, systemResolver } from '../../src/net/outbound-guard.js';
import { UdpTrackerTransport } from '../../src/tracker/client/udp-transport.js';
import { encodeScrapeResponse, parseScrapeQuery } from '../../src/tracker/protocol/index.js';
import { ManualClock } from '../../src/util/clock.js';

/**
 * Adversarial: anyone can publish an index entry, so its tracker URLs are attacker-chosen.
 * Each entry below names a loopback canary (HTTP or UDP) through another spelling of the
 * address; the index's health scraping must not send a single byte to any of them.
 */

interface Canaries {
  httpPort: number;
  /** A redirector that plays a public tracker answering with a redirect to the canary. */
  redirectorPort: number;
  redirectorHits: number;
  /** HTTP requests per attack label (the path segment before `scrape` names the attack). */
  httpHits: Map<string, number>;
  udp: Map<string, { port: number; hits: number; sockets: Socket[] }>;
  servers: Server[];
}

const canaries: Canaries = {
  httpPort: 0,
  redirectorPort: 0,
  redirectorHits: 0,
  httpHits: new Map(),
  udp: new Map(),
  servers: [],
};

function httpCanary(host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const label = /([^/]+)\/scrape/.exec(req.url ?? '')?.[1] ?? `?${req.url}`;
    canaries.httpHits.set(label, (canaries.httpHits.get(label) ?? 0) + 1);
    res.end('d5:filesdee');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** Where each redirect attack sends the scraper (`@P` = the canary's port, `@R` = the redirector's). */
const REDIRECTS: Record<string, [status: number, location: string]> = {
  'redirect-302': [302, 'http://127.0.0.1:@P/redirect-302/scrape'],
  'redirect-301-decimal': [301, 'http://2130706433:@P/redirect-301-decimal/scrape'],
  'redirect-307-v6': [307, 'http://[::1]:@P/redirect-307-v6/scrape'],
  'redirect-308-mapped': [308, 'http://[::ffff:127.0.0.1]:@P/redirect-308-mapped/scrape'],
  'redirect-303-localhost': [303, 'http://localhost:@P/redirect-303-localhost/scrape'],
  'redirect-scheme-relative': [302, '//127.0.0.1:@P/redirect-scheme-relative/scrape'],
  'redirect-userinfo': [302, 'http://x@127.0.0.1:@P/redirect-userinfo/scrape'],
  'redirect-two-hops': [302, 'http://2130706433:@R/redirect-302/scrape'],
};

function redirector(): Promise<Server> {
  const server = createServer((req, res) => {
    canaries.redirectorHits++;
    const label = /([^/]+)\/scrape/.exec(req.url ?? '')?.[1] ?? '';
    if (label === 'good') {
      const hashes = parseScrapeQuery((req.url ?? '').split('?')[1] ?? '');
      res.end(
        encodeScrapeResponse(hashes.map((h) => ({ infoHash: h, complete: 7, incomplete: 2, downloaded: 0 }))),
      );
      return;
    }
    const [status, location] = REDIRECTS[label] ?? [404, ''];
    res.statusCode = status;
    if (location !== '')
      res.setHeader(
        'location',
        location
          .replaceAll('@P', String(canaries.httpPort))
          .replaceAll('@R', String(canaries.redirectorPort)),
      );
    res.end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function bindUdp(type: 'udp4' | 'udp6', host: string, port: number): Promise<Socket> {
  const s = createSocket({ type, ipv6Only: type === 'udp6' });
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, host, () => resolve(s));
  });
}

/** One UDP canary per attack, listening on 127.0.0.1 and ::1 at the same port. */
async function udpCanary(label: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const v4 = await bindUdp('udp4', '127.0.0.1', 0);
    const port = (v4.address() as AddressInfo).port;
    const v6 = await bindUdp('udp6', '::1', port).catch(() => null);
    if (!v6) {
      v4.close();
      continue;
    }
    const c = { port, hits: 0, sockets: [v4, v6] };
    for (const s of c.sockets)
      s.on('message', () => {
        c.hits++;
      });
    canaries.udp.set(label, c);
    return;
  }
  throw new Error('no free UDP port pair');
}

before(async () => {
  const v4 = await httpCanary('127.0.0.1', 0);
  canaries.httpPort = (v4.address() as AddressInfo).port;
  canaries.servers.push(v4, await httpCanary('::1', canaries.httpPort));
  const r = await redirector();
  canaries.redirectorPort = (r.address() as AddressInfo).port;
  canaries.servers.push(r);
  for (const [label] of UDP_ATTACKS) await udpCanary(label);
});

after(async () => {
  for (const s of canaries.servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const c of canaries.udp.values()) for (const s of c.sockets) s.close();
});

/** `@P` stands for the canary's port. The label is the first path segment (HTTP) or the socket (UDP). */
const HTTP_ATTACKS: ReadonlyArray<[label: string, url: string]> = [
  ['plain', 'http://127.0.0.1:@P/plain/announce'],
  ['decimal', 'http://2130706433:@P/decimal/announce'],
  ['hex', 'http://0x7f000001:@P/hex/announce'],
  ['hex-short', 'http://0x7f.1:@P/hex-short/announce'],
  ['octal', 'http://0177.0.0.1:@P/octal/announce'],
  ['short-2', 'http://127.1:@P/short-2/announce'],
  ['short-3', 'http://127.0.1:@P/short-3/announce'],
  ['trailing-dot', 'http://127.0.0.1.:@P/trailing-dot/announce'],
  ['percent', 'http://%31%32%37.0.0.1:@P/percent/announce'],
  ['fullwidth', 'http://\uff11\uff12\uff17.0.0.1:@P/fullwidth/announce'],
  ['upper-hex', 'http://0X7F.0.0.1:@P/upper-hex/announce'],
  ['mapped', 'http://[::ffff:127.0.0.1]:@P/mapped/announce'],
  ['mapped-hex', 'http://[::ffff:7f00:1]:@P/mapped-hex/announce'],
  ['mapped-long', 'http://[0:0:0:0:0:ffff:127.0.0.1]:@P/mapped-long/announce'],
  ['unspecified', 'http://0.0.0.0:@P/unspecified/announce'],
  ['zero', 'http://0:@P/zero/announce'],
  ['v6-unspecified', 'http://[::]:@P/v6-unspecified/announce'],
  ['v6-loopback', 'http://[::1]:@P/v6-loopback/announce'],
  ['v6-loopback-long', 'http://[0:0:0:0:0:0:0:1]:@P/v6-loopback-long/announce'],
  ['localhost', 'http://localhost:@P/localhost/announce'],
  ['localhost-dot', 'http://localhost.:@P/localhost-dot/announce'],
  ['userinfo', 'http://evil.example@127.0.0.1:@P/userinfo/announce'],
  ['userinfo-pass', 'http://a:b@127.0.0.1:@P/userinfo-pass/announce'],
  ['userinfo-double-at', 'http://a@b.example@127.0.0.1:@P/userinfo-double-at/announce'],
  ['backslash-at', 'http://127.0.0.1:@P\\@evil.example/backslash-at/announce'],
  ['backslash-at-decimal', 'http://2130706433:@P\\@evil.example/backslash-at-decimal/announce'],
];

const UDP_ATTACKS: ReadonlyArray<[label: string, host: string]> = [
  ['udp-plain', '127.0.0.1'],
  ['udp-decimal', '2130706433'],
  ['udp-hex', '0x7f000001'],
  ['udp-hex-short', '0x7f.1'],
  ['udp-octal', '0177.0.0.1'],
  ['udp-short', '127.1'],
  ['udp-mapped', '[::ffff:127.0.0.1]'],
  ['udp-unspecified', '0.0.0.0'],
  ['udp-zero', '0'],
  ['udp-v6-unspecified', '[::]'],
  ['udp-v6-loopback', '[::1]'],
  ['udp-v6-loopback-long', '[0:0:0:0:0:0:0:1]'],
  ['udp-localhost', 'localhost'],
  ['udp-userinfo', 'evil@127.0.0.1'],
];

function totalHits(): { requests: number; attacks: string[] } {
  let requests = 0;
  const attacks: string[] = [];
  for (const [label, n] of canaries.httpHits) {
    requests += n;
    attacks.push(`${label} x${n}`);
  }
  for (const [label, c] of canaries.udp) {
    if (c.hits === 0) continue;
    requests += c.hits;
    attacks.push(`${label} x${c.hits}`);
  }
  return { requests, attacks };
}

interface Round {
  /** Planning's early filter off: the transport's guard is then the only thing in the way. */
  guardOnly: boolean;
}

/** Publish every attack (plus one honest tracker) and run one health round as `peerdrop index` wires it. */
async function attackRound({ guardOnly }: Round): Promise<{ healthy: number; updated: number }> {
  canaries.httpHits.clear();
  canaries.redirectorHits = 0;
  for (const c of canaries.udp.values()) c.hits = 0;
  const store = new SqliteIndexStore({ file: ':memory:' });
  const P = String(canaries.httpPort);
  const R = String(canaries.redirectorPort);
  let n = 0;
  const publish = async (label: string, url: string): Promise<void> => {
    const entry = sampleEntry(`ssrf-${label}`, { trackers: [url] });
    await store.publish({ entry, signature: '0'.repeat(128) }, ++n);
  };
  for (const [label, url] of HTTP_ATTACKS) await publish(label, url.replaceAll('@P', P));
  // The redirector is addressed by a spelling of its own: it stands in for a public tracker.
  for (const label of Object.keys(REDIRECTS))
    await publish(label, `http://2130706433:${R}/${label}/announce`);
  for (const [label, host] of UDP_ATTACKS)
    await publish(label, `udp://${host}:${canaries.udp.get(label)!.port}/announce`);
  // Names that resolve to loopback (injected: DNS is the attacker's too).
  await publish('dns-name', `http://internal.test:${P}/dns-name/announce`);
  await publish('dns-mixed', `http://mixed.test:${P}/dns-mixed/announce`);
  await publish('udp-dns-name', `udp://internal.test:${canaries.udp.get('udp-plain')!.port}/announce`);
  // An honest tracker (the redirector's `good` route): scraping must still work.
  await publish('good', `http://tracker.test:${R}/good/announce`);

  const udp = new UdpTrackerTransport({
    bindHost4: '127.0.0.1',
    bindHost6: '::1',
    baseTimeoutMs: 200,
    maxRetries: 1,
  });
  const transport = new GuardedScrapeTransport({
    udp,
    resolve: async (host) => {
      const table: Record<string, string[]> = {
        'internal.test': ['127.0.0.1'],
        'mixed.test': ['93.184.216.34', '::1'],
        'tracker.test': ['127.0.0.1'],
      };
      const addresses = table[host];
      // Other names (localhost) resolve as they would in production.
      if (!addresses) return systemResolver(host);
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
    // Test-only: the redirector's port plays a public host; every other address gets the real rule.
    refusal: (d) => (d.port === canaries.redirectorPort ? null : refusedAddress(d.address)),
  });
  const source = new TrackerScrapeHealthSource(transport, {
    clock: new ManualClock(0),
    maxTrackersPerRound: 100,
    // Generous: only the honest tracker and the redirector are ever contacted, and a loaded
    // machine must not turn a slow honest answer into a failure.
    timeoutMs: 5000,
    allowPrivateTrackers: guardOnly,
  });
  const updater = new HealthUpdater({ store, source, now: () => 1 });
  try {
    const updated = await updater.runOnce();
    // Late datagrams and connections: give anything already sent time to land.
    await new Promise((r) => setTimeout(r, 200));
    const good = await store.get(sampleEntry('ssrf-good').infoHash!);
    return { healthy: good?.seeders ?? -1, updated };
  } finally {
    await updater.stop();
    await udp.close();
    await store.close();
  }
}

function report(what: string): ReturnType<typeof totalHits> {
  const hits = totalHits();
  const total = HTTP_ATTACKS.length + UDP_ATTACKS.length + Object.keys(REDIRECTS).length + 3;
  console.log(
    `index-ssrf (${what}): ${total} attacks, ${hits.attacks.length} reached a canary, ${hits.requests} requests${hits.attacks.length ? `: ${hits.attacks.join(', ')}` : ''}`,
  );
  return hits;
}

test('published trackers that spell a loopback address some other way never reach the loopback canaries', async () => {
  const { healthy, updated } = await attackRound({ guardOnly: false });
  const hits = report('as deployed');
  assert.deepEqual(hits.attacks, [], `the index reached the loopback canary ${hits.requests} times`);
  // Only the honest tracker answered, and its answer was stored.
  assert.equal(healthy, 7);
  assert.equal(updated, 1);
});

test('with the planning filter off, the guard in the transport alone stops every spelling and every redirect', async () => {
  const { healthy } = await attackRound({ guardOnly: true });
  const hits = report('guard alone');
  assert.deepEqual(hits.attacks, [], `the index reached the loopback canary ${hits.requests} times`);
  // The redirects were really exercised: the "public" redirector answered each of them.
  assert.ok(
    canaries.redirectorHits >= Object.keys(REDIRECTS).length,
    `redirector hits ${canaries.redirectorHits}`,
  );
  assert.equal(healthy, 7);
});
