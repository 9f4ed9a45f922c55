import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../util/clock.js';
import { seededRandom } from '../../util/random.js';
import { TrackerError } from '../errors.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeStats } from '../protocol/announce.js';
import { TrackerClient } from './tracker-client.js';
import type { TrackerTransport } from './transport.js';

interface Call {
  url: string;
  req: AnnounceRequest;
  atMs: number;
}

/** An in-memory transport: per-URL scripted behaviour, every call recorded. */
class FakeTransport implements TrackerTransport {
  calls: Call[] = [];
  behaviour = new Map<string, (req: AnnounceRequest) => AnnounceResponse | Error>();
  constructor(private readonly clock: ManualClock) {}
  async announce(url: string, req: AnnounceRequest): Promise<AnnounceResponse> {
    this.calls.push({ url, req, atMs: this.clock.now() });
    const b = this.behaviour.get(url);
    const r = b ? b(req) : { intervalSeconds: 1800, peers: [] };
    if (r instanceof Error) throw r;
    return r;
  }
  async scrape(url: string, hashes: readonly Uint8Array[]): Promise<ScrapeStats[]> {
    if (this.behaviour.get(url)) throw new TrackerError('TRACKER_NETWORK', 'down');
    return hashes.map((infoHash) => ({ infoHash, complete: 4, incomplete: 5, downloaded: 6 }));
  }
  async close(): Promise<void> {}
  eventsFor(url: string): string[] {
    return this.calls.filter((c) => c.url === url).map((c) => `${c.req.event}@${c.atMs / 1000}`);
  }
}

const flush = () => new Promise<void>((r) => setImmediate(r));

function setup(tiers: string[][], opts: { left?: number } = {}) {
  const clock = new ManualClock(0);
  const transport = new FakeTransport(clock);
  const stats = { uploaded: 0, downloaded: 0, left: opts.left ?? 100 };
  const errors: string[] = [];
  const peers: string[] = [];
  const client = new TrackerClient({
    infoHash: new Uint8Array(20).fill(1),
    peerId: new Uint8Array(20).fill(2),
    port: 6881,
    announceTiers: tiers,
    getStats: () => stats,
    clock,
    random: seededRandom(1),
    transport,
    autoUpkeep: false,
    onError: (url, err) => errors.push(`${url}:${(err as TrackerError).code}`),
    onPeers: (ps) => peers.push(...ps.map((p) => `${p.host}:${p.port}`)),
  });
  const step = async (ms: number) => {
    clock.advance(ms);
    client.upkeep();
    await flush();
  };
  return { clock, transport, client, stats, errors, peers, step };
}

test('announces started first, then regular announces every interval', async () => {
  const s = setup([['http://a/announce']]);
  s.transport.behaviour.set('http://a/announce', () => ({
    intervalSeconds: 120,
    peers: [{ host: '1.2.3.4', port: 5 }],
  }));
  s.client.start();
  await flush();
  await s.step(119_000);
  await s.step(1_000);
  await s.step(120_000);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0', 'none@120', 'none@240']);
  assert.deepEqual(s.peers.slice(0, 1), ['1.2.3.4:5']);
});

test('sends completed once, respecting min interval, and never to a tracker that did not see started', async () => {
  const s = setup([['http://a/announce']]);
  s.transport.behaviour.set('http://a/announce', () => ({
    intervalSeconds: 600,
    minIntervalSeconds: 60,
    peers: [],
  }));
  s.client.start();
  await flush();
  await s.step(10_000);
  s.stats.left = 0;
  s.client.completed();
  await flush();
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0']);
  await s.step(50_000);
  s.client.completed();
  await s.step(1_000);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0', 'completed@60']);
  assert.equal(s.transport.calls[1]?.req.left, 0);
  const fresh = setup([['http://b/announce']], { left: 0 });
  fresh.client.completed();
  fresh.client.start();
  await flush();
  assert.deepEqual(fresh.transport.eventsFor('http://b/announce'), ['started@0']);
});

test('clamps a zero interval to the 30 s floor', async () => {
  const s = setup([['http://a/announce']]);
  s.transport.behaviour.set('http://a/announce', () => ({ intervalSeconds: 0, peers: [] }));
  s.client.start();
  await flush();
  await s.step(29_000);
  await s.step(1_000);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0', 'none@30']);
});

test('backs off exponentially on failure, up to the cap, and recovers', async () => {
  const s = setup([['http://a/announce']]);
  let fail = true;
  s.transport.behaviour.set('http://a/announce', () =>
    fail ? new TrackerError('TRACKER_NETWORK', 'down') : { intervalSeconds: 1800, peers: [] },
  );
  s.client.start();
  await flush();
  for (let i = 0; i < 12; i++) await s.step(60_000);
  // Failures at 0, then +15, +30, +60 s …: with one-minute steps: 0, 60, 120, 180, 300, 540.
  assert.deepEqual(
    s.transport.calls.map((c) => c.atMs / 1000),
    [0, 60, 120, 180, 300, 540],
  );
  for (let i = 0; i < 120; i++) await s.step(60_000);
  const gaps = s.transport.calls.map((c, i, a) => (i ? c.atMs - a[i - 1]!.atMs : 0));
  // Backoff is capped at 30 minutes.
  assert.deepEqual(gaps.slice(-2), [1_800_000, 1_800_000]);
  fail = false;
  await s.step(1_800_000);
  assert.equal(s.client.trackers()[0]?.isWorking, true);
  assert.equal(s.transport.calls.at(-1)?.req.event, 'started');
  assert.ok(s.errors.every((e) => e.endsWith('TRACKER_NETWORK')));
});

test('tries trackers of a tier in order, moves a working one to the front, announces to each tier', async () => {
  const s = setup([
    ['http://a1/announce', 'http://a2/announce', 'http://a3/announce'],
    ['udp://b1:1/announce'],
  ]);
  const order = s.client
    .trackers()
    .filter((t) => t.tier === 0)
    .map((t) => t.url);
  // The first two of the (shuffled) tier fail; the third works.
  s.transport.behaviour.set(order[0]!, () => new TrackerError('TRACKER_FAILURE', 'no'));
  s.transport.behaviour.set(order[1]!, () => new TrackerError('TRACKER_TIMEOUT', 'slow'));
  s.client.start();
  for (let i = 0; i < 4; i++) await flush();
  assert.deepEqual(
    s.transport.calls.map((c) => c.url),
    [order[0], 'udp://b1:1/announce', order[1], order[2]],
  );
  assert.equal(s.client.trackers()[0]?.url, order[2]);
  // At the next interval only the working tracker of tier 0 and tier 1's tracker are used.
  s.transport.calls = [];
  await s.step(1_800_000);
  assert.deepEqual(s.transport.calls.map((c) => c.url).sort(), [order[2], 'udp://b1:1/announce'].sort());
});

test('echoes the tracker id in later announces', async () => {
  const s = setup([['http://a/announce']]);
  s.transport.behaviour.set('http://a/announce', () => ({
    intervalSeconds: 60,
    peers: [],
    trackerId: Uint8Array.of(9),
  }));
  s.client.start();
  await flush();
  await s.step(60_000);
  assert.equal(s.transport.calls[0]?.req.trackerId, undefined);
  assert.deepEqual(s.transport.calls[1]?.req.trackerId, Uint8Array.of(9));
});

test('a malformed response is an error for that tracker only', async () => {
  const s = setup([['http://bad/announce'], ['http://good/announce']]);
  s.transport.behaviour.set('http://bad/announce', () => new TrackerError('TRACKER_NOT_BENCODE', 'html'));
  s.transport.behaviour.set('http://good/announce', () => ({
    intervalSeconds: 60,
    peers: [{ host: '9.9.9.9', port: 9 }],
  }));
  s.client.start();
  await flush();
  assert.deepEqual(s.errors, ['http://bad/announce:TRACKER_NOT_BENCODE']);
  assert.deepEqual(s.peers, ['9.9.9.9:9']);
});

test('stop sends stopped to every tracker that saw started and ignores unsupported URLs', async () => {
  const s = setup([['http://a/announce', 'wss://x/'], ['http://b/announce']]);
  s.client.start();
  await flush();
  await s.client.stop();
  assert.deepEqual(s.transport.calls.map((c) => `${c.url} ${c.req.event}`).sort(), [
    'http://a/announce started',
    'http://a/announce stopped',
    'http://b/announce started',
    'http://b/announce stopped',
  ]);
  assert.equal(s.transport.calls.at(-1)?.req.numWant, 0);
});

test('stop returns within its time bound when a tracker never answers', async () => {
  const clock = new ManualClock();
  const started = Date.now();
  const client = new TrackerClient({
    infoHash: new Uint8Array(20),
    peerId: new Uint8Array(20),
    port: 1,
    announceTiers: [['http://a/announce']],
    getStats: () => ({ uploaded: 0, downloaded: 0, left: 0 }),
    clock,
    autoUpkeep: false,
    stopTimeoutMs: 200,
    transport: {
      announce: (_u, req, signal) =>
        req.event === 'started'
          ? Promise.resolve({ intervalSeconds: 60, peers: [] })
          : new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')))),
      scrape: async () => [],
      close: async () => {},
    },
  });
  client.start();
  await flush();
  await client.stop();
  assert.ok(Date.now() - started < 1000);
});

test('scrape returns the first tier that answers', async () => {
  const s = setup([['http://down/announce'], ['http://up/announce']]);
  s.transport.behaviour.set('http://down/announce', () => new TrackerError('TRACKER_NETWORK', 'x'));
  assert.deepEqual(await s.client.scrape(), {
    trackerUrl: 'http://up/announce',
    seeders: 4,
    leechers: 5,
    completed: 6,
  });
});
