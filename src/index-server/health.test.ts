import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScrapeStats } from '../tracker/protocol/index.js';
import { fromHex } from '../util/bytes.js';
import { ManualClock } from '../util/clock.js';
import {
  CoLocatedHealthSource,
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

test('private and loopback tracker addresses are not scraped by default', async () => {
  let n = 0;
  const src = new TrackerScrapeHealthSource(
    {
      scrape: async () => {
        n++;
        return [];
      },
    },
    { clock: new ManualClock() },
  );
  await src.check([
    target('ab'.repeat(20), [
      'http://127.0.0.1/announce',
      'http://192.168.1.1/announce',
      'http://localhost/announce',
    ]),
  ]);
  assert.equal(n, 0);
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
