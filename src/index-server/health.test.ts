import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { OutboundError, type Resolver, refusedAddress } from '../net/outbound-guard.js';
import { encodeScrapeResponse, parseScrapeQuery, type ScrapeStats } from '../tracker/protocol/index.js';
import { fromHex } from '../util/bytes.js';
import { ManualClock } from '../util/clock.js';
import {
  CoLocatedHealthSource,
  GuardedScrapeTransport,
  type HealthTarget,
  HealthUpdater,
  TrackerScrapeHealthSource,
} from './health.js';
import { SqliteIndexStore } from './sqlite-store.js';
import { sampleEntry } from './store.conformance.js';

function target(id: string, trackers: string[]): HealthTarget {
  return { id, swarmHash: fromHex(id.slice(0, 40))!, trackers };
}

test('scraping groups by tracker, caps hashes per request and rate-limits each tracker', async () => {
  const clock = new ManualClock(0);
  const calls: { url: string; n: number }[] = [];
  const transport = {
    async scrape(url: string, hashes: readonly Uint8Array[]): Promise<ScrapeStats[]> {
      calls.push({ url, n: hashes.length });
      if (url.includes('down')) throw new Error('connection refused');
      return hashes.map((h) => ({ infoHash: h, complete: 3, incomplete: 1, downloaded: 0 }));
    },
  };
  const src = new TrackerScrapeHealthSource(transport, {
    clock,
    maxHashesPerScrape: 2,
    minTrackerIntervalMs: 1000,
    allowPrivateTrackers: true,
  });
  const ids = ['aa', 'bb', 'cc'].map((x) => x.repeat(20));
  const targets = [
    target(ids[0]!, ['http://down.example/announce', 'http://t1.example/announce']),
    target(ids[1]!, ['http://t1.example/announce']),
    target(ids[2]!, ['udp://t2.example:80']),
  ];
  const first = await src.check(targets);
  assert.deepEqual(first.map((h) => h.id).sort(), [ids[1], ids[2]]);
  assert.deepEqual(calls.map((c) => c.url).sort(), [
    'http://down.example/announce',
    'http://t1.example/announce',
    'udp://t2.example:80',
  ]);
  calls.length = 0;
  assert.deepEqual(await src.check(targets), []);
  assert.equal(calls.length, 0);
  clock.advance(1000);
  // The dead tracker is backed off, so the first target falls through to its second tracker.
  const third = await src.check(targets);
  assert.deepEqual(third.map((h) => h.id).sort(), ids);
  assert.deepEqual(
    calls.sort((a, b) => a.url.localeCompare(b.url)),
    [
      { url: 'http://t1.example/announce', n: 2 },
      { url: 'udp://t2.example:80', n: 1 },
    ],
  );
});

/** Spellings of refused addresses that planning recognises without a lookup. */
const PLAINLY_PRIVATE = [
  'http://127.0.0.1/announce',
  'http://192.168.1.1/announce',
  'http://localhost/announce',
  'http://LOCALHOST./announce',
  'http://tracker.localhost/announce',
  'http://2130706433/announce',
  'http://0x7f.1/announce',
  'http://0177.0.0.1/announce',
  'http://127.1/announce',
  'http://%31%32%37.0.0.1/announce',
  'http://[::ffff:127.0.0.1]/announce',
  'http://[::1]:80/announce',
  'http://[fd00::1]/announce',
  'http://0/announce',
  'http://[::]/announce',
  'http://169.254.169.254/announce',
  'http://2852039166/announce',
  'udp://2130706433:6969',
  'udp://[::ffff:10.0.0.1]:6969',
  'udp://0.0.0.0:6969',
  'udp://localhost:6969',
];

function countingTransport(): { calls: string[]; scrape: (url: string) => Promise<ScrapeStats[]> } {
  const calls: string[] = [];
  return {
    calls,
    scrape: async (url: string) => {
      calls.push(url);
      return [];
    },
  };
}

test('private and loopback tracker addresses, however spelled, are not scraped by default', async () => {
  const transport = countingTransport();
  const src = new TrackerScrapeHealthSource(transport, {
    clock: new ManualClock(),
    maxTrackersPerRound: 100,
  });
  await src.check(PLAINLY_PRIVATE.map((url, i) => target(i.toString(16).padStart(2, '0').repeat(20), [url])));
  assert.deepEqual(transport.calls, []);
});

test('an entry whose first trackers are refused falls through to its next tracker in the same round', async () => {
  const transport = countingTransport();
  const src = new TrackerScrapeHealthSource(transport, { clock: new ManualClock() });
  const junk = ['http://evil@tracker.example/announce', 'gopher://x.example/', 'not a url'];
  await src.check([target('ab'.repeat(20), [...PLAINLY_PRIVATE, ...junk, 'http://t.example/announce'])]);
  assert.deepEqual(transport.calls, ['http://t.example/announce']);
});

test('allowPrivateTrackers plans literal private trackers (the transport still decides)', async () => {
  const transport = countingTransport();
  const src = new TrackerScrapeHealthSource(transport, {
    clock: new ManualClock(),
    allowPrivateTrackers: true,
    maxTrackersPerRound: 100,
  });
  const urls = PLAINLY_PRIVATE.slice(0, 5);
  await src.check(urls.map((url, i) => target(String(i).repeat(40), [url])));
  assert.deepEqual(transport.calls.sort(), [...urls].sort());
});

const table =
  (t: Record<string, string[]>): Resolver =>
  async (host) => {
    const a = t[host];
    if (!a) throw new Error(`ENOTFOUND ${host}`);
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const RESOLVER = table({
  'tracker.example': ['93.184.216.34'],
  'tracker6.example': ['2606:2800:220:1::1'],
  'mapped.example': ['::ffff:93.184.216.34'],
  'internal.example': ['10.1.2.3'],
  'mixed.example': ['93.184.216.34', '127.0.0.1'],
  'metadata.example': ['169.254.169.254'],
  'nat64.example': ['64:ff9b::7f00:1'],
});

test('UDP scrapes go to the vetted address literal, never to a name', async () => {
  const udp = countingTransport();
  const guarded = new GuardedScrapeTransport({ udp, resolve: RESOLVER });
  const hash = [new Uint8Array(20)];
  await guarded.scrape('udp://tracker.example:6969/announce', hash);
  await guarded.scrape('udp://TRACKER6.example:80', hash);
  await guarded.scrape('udp://mapped.example:1337/announce?x=1', hash);
  await guarded.scrape('udp://8.8.8.8:6969', hash);
  await guarded.scrape('udp://134744072:6969', hash);
  assert.deepEqual(udp.calls, [
    'udp://93.184.216.34:6969/announce',
    'udp://[2606:2800:220:1::1]:80/announce',
    'udp://93.184.216.34:1337/announce',
    'udp://8.8.8.8:6969/announce',
    'udp://8.8.8.8:6969/announce',
  ]);
});

test('UDP scrapes to refused destinations fail with the guard code and send nothing', async () => {
  const udp = countingTransport();
  const guarded = new GuardedScrapeTransport({ udp, resolve: RESOLVER });
  const cases: Array<[string, string]> = [
    ['udp://internal.example:6969', 'NET_DESTINATION_REFUSED'],
    ['udp://mixed.example:6969', 'NET_DESTINATION_REFUSED'],
    ['udp://metadata.example:6969', 'NET_DESTINATION_REFUSED'],
    ['udp://nat64.example:6969', 'NET_DESTINATION_REFUSED'],
    ['udp://2130706433:6969', 'NET_DESTINATION_REFUSED'],
    ['udp://0x7f.1:6969', 'NET_DESTINATION_REFUSED'],
    ['udp://[::1]:6969', 'NET_DESTINATION_REFUSED'],
    ['udp://[::ffff:7f00:1]:6969', 'NET_DESTINATION_REFUSED'],
    ['udp://0:6969', 'NET_DESTINATION_REFUSED'],
    ['udp://evil@tracker.example:6969', 'NET_USERINFO_REFUSED'],
    ['udp://tracker.example', 'NET_BAD_URL'],
    ['udp://nxdomain.example:6969', 'NET_RESOLVE_FAILED'],
  ];
  for (const [url, code] of cases)
    await assert.rejects(
      guarded.scrape(url, [new Uint8Array(20)]),
      (err: unknown) => err instanceof OutboundError && err.code === code,
      url,
    );
  assert.deepEqual(udp.calls, []);
});

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })),
  );
}

test('HTTP scrapes go through the guard: a public tracker answers, its redirect to a private address is refused', async () => {
  let canaryHits = 0;
  const canary = await listen((_req, res) => {
    canaryHits++;
    res.end('d5:filesdee');
  });
  const tracker = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/away/scrape') {
      res.writeHead(302, { location: `http://2130706433:${canary.port}/scrape${url.search}` });
      res.end();
      return;
    }
    const hashes = parseScrapeQuery(url.search.slice(1));
    res.end(
      encodeScrapeResponse(hashes.map((h) => ({ infoHash: h, complete: 5, incomplete: 1, downloaded: 2 }))),
    );
  });
  try {
    const guarded = new GuardedScrapeTransport({
      udp: countingTransport(),
      resolve: table({ 'tracker.test': ['127.0.0.1'], 'canary.test': ['127.0.0.1'] }),
      // Test-only: the tracker's loopback port plays a public address.
      refusal: (d) => (d.port === tracker.port ? null : refusedAddress(d.address)),
    });
    const hash = new Uint8Array(20).fill(7);
    const stats = await guarded.scrape(`http://tracker.test:${tracker.port}/announce`, [hash]);
    assert.deepEqual(stats, [{ infoHash: hash, complete: 5, incomplete: 1, downloaded: 2 }]);
    for (const url of [
      `http://tracker.test:${tracker.port}/away/announce`,
      `http://canary.test:${canary.port}/announce`,
      `http://127.0.0.1:${canary.port}/announce`,
      `http://0x7f.1:${canary.port}/announce`,
    ])
      await assert.rejects(
        guarded.scrape(url, [hash]),
        (err: unknown) => err instanceof OutboundError && err.code === 'NET_DESTINATION_REFUSED',
        url,
      );
    await assert.rejects(
      guarded.scrape(`http://tracker.test:${tracker.port}/no-scrape-here`, [hash]),
      (err: unknown) => (err as { code?: string }).code === 'TRACKER_BAD_URL',
    );
    assert.equal(canaryHits, 0);
    // allowPrivate (a company-internal index) reaches the same address.
    const internal = new GuardedScrapeTransport({ udp: countingTransport(), allowPrivate: true });
    await internal.scrape(`http://127.0.0.1:${canary.port}/announce`, [hash]);
    assert.equal(canaryHits, 1);
  } finally {
    for (const s of [canary.server, tracker.server]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  }
});

test('the updater writes health from a co-located tracker into the store', async () => {
  const store = new SqliteIndexStore({ file: ':memory:' });
  const e = sampleEntry('colo');
  await store.publish({ entry: e, signature: '0'.repeat(128) }, 1);
  const source = new CoLocatedHealthSource({
    swarmStats: (hs) => hs.map(() => ({ complete: 9, incomplete: 4 })),
  });
  const updater = new HealthUpdater({ store, source, now: () => 5000 });
  assert.equal(await updater.runOnce(), 1);
  const got = await store.get(e.infoHash!);
  assert.equal(got?.seeders, 9);
  assert.equal(got?.leechers, 4);
  assert.equal(got?.checkedAtMs, 5000);
  assert.equal(await updater.runOnce(), 0);
  await store.close();
});
