import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualScheduler } from '../../util/clock.js';
import { seededRandom } from '../../util/random.js';
import { TrackerError } from '../errors.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeStats } from '../protocol/announce.js';
import { TrackerClient, type TrackerClientOptions } from './tracker-client.js';
import type { TrackerTransport } from './transport.js';

/**
 * Every test here runs the client on a `VirtualScheduler` with its own timers on (no manual
 * `upkeep()`): hours of announces take milliseconds, and the times below are exact.
 */

interface Call {
  url: string;
  req: AnnounceRequest;
  atMs: number;
}

/** What a scripted tracker does: answer (after `latencyMs` of virtual time), fail, or stay silent. */
type Behaviour = AnnounceResponse | Error | 'silent' | { latencyMs: number; response: AnnounceResponse };

/** An in-memory transport: per-URL scripted behaviour on virtual time, every call recorded. */
class FakeTransport implements TrackerTransport {
  calls: Call[] = [];
  behaviour = new Map<string, (req: AnnounceRequest) => Behaviour>();
  constructor(private readonly scheduler: VirtualScheduler) {}
  announce(url: string, req: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse> {
    this.calls.push({ url, req, atMs: this.scheduler.now() });
    const b = this.behaviour.get(url)?.(req) ?? { intervalSeconds: 1800, peers: [] };
    if (b instanceof Error) return Promise.reject(b);
    return new Promise((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(new TrackerError('TRACKER_ABORTED', 'aborted')));
      if (b === 'silent') return;
      if ('latencyMs' in b) this.scheduler.setTimer(b.latencyMs, () => resolve(b.response));
      else resolve(b);
    });
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

/** One event-loop turn: every promise continuation queued so far has run. */
const flush = () => new Promise<void>((r) => setImmediate(r));

/**
 * Advance virtual time by `ms`, one timer at a time, letting the client's promise chains run
 * between timers (so a response handled at time T sees `now() === T`).
 */
async function run(scheduler: VirtualScheduler, ms: number): Promise<void> {
  const endMs = scheduler.now() + ms;
  await flush();
  for (let fired = 0; ; fired++) {
    assert.ok(fired < 10_000, 'runaway timers');
    const next = scheduler.nextDueMs();
    if (next === null || next > endMs) break;
    scheduler.step();
    await flush();
  }
  scheduler.runUntil(endMs);
  await flush();
}

function setup(tiers: string[][], opts: { left?: number; client?: Partial<TrackerClientOptions> } = {}) {
  const scheduler = new VirtualScheduler(0);
  const transport = new FakeTransport(scheduler);
  const stats = { uploaded: 0, downloaded: 0, left: opts.left ?? 100 };
  const errors: string[] = [];
  const peers: string[] = [];
  const client = new TrackerClient({
    infoHash: new Uint8Array(20).fill(1),
    peerId: new Uint8Array(20).fill(2),
    port: 6881,
    announceTiers: tiers,
    getStats: () => stats,
    scheduler,
    random: seededRandom(1),
    transport,
    onError: (url, err) => errors.push(`${url}:${(err as TrackerError).code}`),
    onPeers: (ps) => peers.push(...ps.map((p) => `${p.host}:${p.port}`)),
    ...opts.client,
  });
  return { scheduler, transport, client, stats, errors, peers, run: (ms: number) => run(scheduler, ms) };
}

test('announces started first, then re-announces every interval on its own timer', async () => {
  const s = setup([['http://a/announce']]);
  s.transport.behaviour.set('http://a/announce', () => ({
    intervalSeconds: 120,
    peers: [{ host: '1.2.3.4', port: 5 }],
  }));
  s.client.start();
  await s.run(119_999);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0']);
  await s.run(1);
  await s.run(120_000);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0', 'none@120', 'none@240']);
  assert.deepEqual(s.peers.slice(0, 1), ['1.2.3.4:5']);
  assert.equal(s.client.trackers()[0]?.nextAnnounceAtMs, 360_000);
});

test('the next interval counts from when the answer arrived', async () => {
  const s = setup([['http://a/announce']]);
  s.transport.behaviour.set('http://a/announce', () => ({
    latencyMs: 2_000,
    response: { intervalSeconds: 60, peers: [] },
  }));
  s.client.start();
  await s.run(200_000);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), [
    'started@0',
    'none@62',
    'none@124',
    'none@186',
  ]);
});

test('sends completed once, at once (min interval does not hold it back), and never to a tracker that did not see started', async () => {
  const s = setup([['http://a/announce']]);
  s.transport.behaviour.set('http://a/announce', () => ({
    intervalSeconds: 600,
    minIntervalSeconds: 60,
    peers: [],
  }));
  s.client.start();
  await s.run(10_000);
  s.stats.left = 0;
  s.client.completed();
  await s.run(0);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0', 'completed@10']);
  assert.equal(s.transport.calls[1]?.req.left, 0);
  s.client.completed();
  await s.run(1);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0', 'completed@10']);
  // The regular schedule resumes from the completed announce.
  await s.run(600_000);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0', 'completed@10', 'none@610']);
  const fresh = setup([['http://b/announce']], { left: 0 });
  fresh.client.completed();
  fresh.client.start();
  await fresh.run(0);
  assert.deepEqual(fresh.transport.eventsFor('http://b/announce'), ['started@0']);
});

test('a download that finishes while started is on its way sends completed right after it', async () => {
  const s = setup([['http://a/announce']]);
  s.transport.behaviour.set('http://a/announce', () => ({
    latencyMs: 2_000,
    response: { intervalSeconds: 900, minIntervalSeconds: 300, peers: [] },
  }));
  s.client.start();
  await s.run(500);
  s.stats.left = 0;
  s.client.completed();
  await s.run(3_000);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0', 'completed@2']);
});

test('stop owes completed first: a plain get that finishes and quits still counts as a download', async () => {
  const s = setup([['http://a/announce']]);
  s.transport.behaviour.set('http://a/announce', (req) =>
    req.event === 'completed' ? 'silent' : { intervalSeconds: 900, peers: [] },
  );
  s.client.start();
  await s.run(1_000);
  s.stats.left = 0;
  s.client.completed();
  await s.run(0);
  // The completed announce is in flight (silent tracker) when the program stops.
  s.transport.behaviour.set('http://a/announce', () => ({ intervalSeconds: 900, peers: [] }));
  await s.client.stop();
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), [
    'started@0',
    'completed@1',
    'completed@1',
    'stopped@1',
  ]);
});

test('clamps a zero interval to the 30 s floor', async () => {
  const s = setup([['http://a/announce']]);
  s.transport.behaviour.set('http://a/announce', () => ({ intervalSeconds: 0, peers: [] }));
  s.client.start();
  await s.run(95_000);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), [
    'started@0',
    'none@30',
    'none@60',
    'none@90',
  ]);
});

test('backs off exponentially on failure, up to the cap, and recovers', async () => {
  const s = setup([['http://a/announce']]);
  let fail = true;
  s.transport.behaviour.set('http://a/announce', () =>
    fail ? new TrackerError('TRACKER_NETWORK', 'down') : { intervalSeconds: 1800, peers: [] },
  );
  const wallStart = performance.now();
  s.client.start();
  await s.run(4_000_000);
  // 15 s · 2^(n-1) after the n-th failure: +15, +30, +60 … then capped at 30 minutes.
  assert.deepEqual(
    s.transport.calls.map((c) => c.atMs / 1000),
    [0, 15, 45, 105, 225, 465, 945, 1905, 3705],
  );
  await s.run(6 * 3_600_000);
  const gaps = s.transport.calls.map((c, i, a) => (i ? c.atMs - a[i - 1]!.atMs : 0));
  assert.deepEqual(gaps.slice(-2), [1_800_000, 1_800_000]);
  fail = false;
  await s.run(1_800_000);
  assert.equal(s.client.trackers()[0]?.isWorking, true);
  assert.equal(s.transport.calls.at(-1)?.req.event, 'started');
  assert.ok(s.errors.length > 10);
  assert.ok(s.errors.every((e) => e.endsWith('TRACKER_NETWORK')));
  // Eight virtual hours, no real waiting.
  assert.ok(performance.now() - wallStart < 5_000);
});

test('a tracker that never answers times out on the scheduler, then backs off', async () => {
  const s = setup([['http://a/announce']], { client: { announceTimeoutMs: 20_000 } });
  let isSilent = true;
  s.transport.behaviour.set('http://a/announce', () =>
    isSilent ? 'silent' : { intervalSeconds: 300, peers: [] },
  );
  s.client.start();
  await s.run(19_999);
  assert.deepEqual(s.errors, []);
  await s.run(1);
  assert.deepEqual(s.errors, ['http://a/announce:TRACKER_TIMEOUT']);
  // Timed out at 20 s; the first backoff is 15 s.
  isSilent = false;
  await s.run(15_000);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0', 'started@35']);
  assert.equal(s.client.trackers()[0]?.isWorking, true);
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
  await s.run(0);
  assert.deepEqual(
    s.transport.calls.map((c) => c.url),
    [order[0], 'udp://b1:1/announce', order[1], order[2]],
  );
  assert.equal(s.client.trackers()[0]?.url, order[2]);
  // At the next interval only the working tracker of tier 0 and tier 1's tracker are used.
  s.transport.calls = [];
  await s.run(1_800_000);
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
  await s.run(60_000);
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
  await s.run(0);
  assert.deepEqual(s.errors, ['http://bad/announce:TRACKER_NOT_BENCODE']);
  assert.deepEqual(s.peers, ['9.9.9.9:9']);
});

test('stop sends stopped to every tracker that saw started, ignores unsupported URLs, leaves no timer', async () => {
  const s = setup([['http://a/announce', 'wss://x/'], ['http://b/announce']]);
  s.client.start();
  await s.run(0);
  await s.client.stop();
  assert.deepEqual(s.transport.calls.map((c) => `${c.url} ${c.req.event}`).sort(), [
    'http://a/announce started',
    'http://a/announce stopped',
    'http://b/announce started',
    'http://b/announce stopped',
  ]);
  assert.equal(s.transport.calls.at(-1)?.req.numWant, 0);
  assert.equal(s.scheduler.pendingTimers, 0);
  await s.run(3_600_000);
  assert.equal(s.transport.calls.length, 4);
});

test('stop returns after stopTimeoutMs of scheduler time when a tracker never answers', async () => {
  const s = setup([['http://a/announce']], { client: { stopTimeoutMs: 200 } });
  s.transport.behaviour.set('http://a/announce', (req) =>
    req.event === 'started' ? { intervalSeconds: 60, peers: [] } : 'silent',
  );
  s.client.start();
  await s.run(0);
  let isStopped = false;
  const stopping = s.client.stop().then(() => {
    isStopped = true;
  });
  await s.run(199);
  assert.equal(isStopped, false);
  await s.run(1);
  await stopping;
  assert.equal(isStopped, true);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0', 'stopped@0']);
});

test('without autoUpkeep the owner drives announces; timeouts still run on the scheduler', async () => {
  const s = setup([['http://a/announce']], { client: { autoUpkeep: false, announceTimeoutMs: 5_000 } });
  s.transport.behaviour.set('http://a/announce', () => ({ intervalSeconds: 60, peers: [] }));
  s.client.start();
  await s.run(600_000);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0']);
  s.client.upkeep();
  await s.run(0);
  assert.deepEqual(s.transport.eventsFor('http://a/announce'), ['started@0', 'none@600']);
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
