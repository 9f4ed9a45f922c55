import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../util/clock.js';
import { seededRandom } from '../../util/random.js';
import type { AnnounceRequest } from '../protocol/announce.js';
import { decodeUdpRequest, encodeUdpResponse, type UdpRequest } from '../protocol/udp.js';
import { type UdpTarget, UdpTrackerCore } from './udp-tracker.js';

const target: UdpTarget = { host: '127.0.0.1', port: 6969, family: 4 };
const from = { host: '127.0.0.1', port: 6969 };
const req: AnnounceRequest = {
  infoHash: new Uint8Array(20).fill(1),
  peerId: new Uint8Array(20).fill(2),
  port: 6881,
  uploaded: 0,
  downloaded: 0,
  left: 5,
  event: 'started',
};

function setup() {
  const clock = new ManualClock(0);
  const sent: UdpRequest[] = [];
  const core = new UdpTrackerCore({
    clock,
    random: seededRandom(7),
    baseTimeoutMs: 1000,
    maxRetries: 2,
    send: (bytes) => sent.push(decodeUdpRequest(bytes)),
  });
  return { clock, sent, core };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

test('connects, then announces with the connection id and BEP 41 URL data', async () => {
  const { sent, core } = setup();
  const p = core.announce(target, req, new TextEncoder().encode('/announce?k=1'));
  assert.equal(sent[0]?.action, 'connect');
  core.handleMessage(
    encodeUdpResponse({ action: 'connect', transactionId: sent[0]!.transactionId, connectionId: 42n }),
    from,
  );
  const a = sent[1]!;
  assert.ok(a.action === 'announce');
  assert.equal(a.connectionId, 42n);
  assert.notEqual(a.transactionId, sent[0]!.transactionId);
  assert.equal(new TextDecoder().decode(a.urlData), '/announce?k=1');
  core.handleMessage(
    encodeUdpResponse({
      action: 'announce',
      transactionId: a.transactionId,
      response: { intervalSeconds: 60, complete: 1, incomplete: 2, peers: [{ host: '10.0.0.2', port: 7 }] },
    }),
    from,
  );
  const res = await p;
  assert.deepEqual(res.peers, [{ host: '10.0.0.2', port: 7 }]);
  assert.equal(core.pendingCount, 0);
});

test('reuses a connection id for one minute, then connects again', async () => {
  const { clock, sent, core } = setup();
  const answer = () => {
    const last = sent.at(-1)!;
    if (last.action === 'connect') {
      core.handleMessage(
        encodeUdpResponse({ action: 'connect', transactionId: last.transactionId, connectionId: 5n }),
        from,
      );
    }
    const next = sent.at(-1)!;
    core.handleMessage(
      encodeUdpResponse({
        action: 'announce',
        transactionId: next.transactionId,
        response: { intervalSeconds: 1, peers: [] },
      }),
      from,
    );
  };
  let p = core.announce(target, req);
  answer();
  await p;
  clock.advance(59_000);
  p = core.announce(target, req);
  assert.equal(sent.at(-1)?.action, 'announce');
  answer();
  await p;
  clock.advance(1_000);
  p = core.announce(target, req);
  assert.equal(sent.at(-1)?.action, 'connect');
  answer();
  await p;
  assert.deepEqual(
    sent.map((s) => s.action),
    ['connect', 'announce', 'announce', 'connect', 'announce'],
  );
});

test('retransmits after base·2^n and fails with TRACKER_TIMEOUT after the last retry', async () => {
  const { clock, sent, core } = setup();
  const p = core.announce(target, req);
  const times: number[] = [];
  const outcome = p.catch((e: { code: string }) => e.code);
  for (let t = 0; t <= 8000; t += 500) {
    clock.advance(t === 0 ? 0 : 500);
    const before = sent.length;
    core.upkeep();
    if (sent.length > before || t === 0) times.push(clock.now());
  }
  // Sent at 0; retransmitted at 1 s and 1 + 2 = 3 s; given up at 3 + 4 = 7 s.
  assert.equal(sent.length, 3);
  assert.deepEqual(times, [0, 1000, 3000]);
  assert.equal(await outcome, 'TRACKER_TIMEOUT');
});

test('ignores answers from another address or with an unknown transaction id', async () => {
  const { sent, core } = setup();
  const p = core.announce(target, req);
  const tid = sent[0]!.transactionId;
  core.handleMessage(encodeUdpResponse({ action: 'connect', transactionId: tid, connectionId: 1n }), {
    host: '127.0.0.2',
    port: 6969,
  });
  core.handleMessage(encodeUdpResponse({ action: 'connect', transactionId: tid, connectionId: 1n }), {
    host: '127.0.0.1',
    port: 1,
  });
  core.handleMessage(
    encodeUdpResponse({ action: 'connect', transactionId: tid ^ 1, connectionId: 1n }),
    from,
  );
  assert.equal(sent.length, 1);
  core.close();
  await assert.rejects(p, { code: 'TRACKER_ABORTED' });
});

test('an error packet or a malformed answer fails that request with a TrackerError', async () => {
  const { sent, core } = setup();
  const p1 = core.announce(target, req);
  core.handleMessage(
    encodeUdpResponse({ action: 'error', transactionId: sent[0]!.transactionId, message: 'unregistered' }),
    from,
  );
  await assert.rejects(p1, { code: 'TRACKER_FAILURE', failureReason: 'unregistered' });
  const p2 = core.announce(target, req);
  const bad = new Uint8Array(15);
  new DataView(bad.buffer).setUint32(4, sent[1]!.transactionId);
  core.handleMessage(bad, from);
  await assert.rejects(p2, { code: 'TRACKER_BAD_PACKET' });
});

test('scrape maps the counts back to the requested info-hashes', async () => {
  const { sent, core } = setup();
  const h = new Uint8Array(20).fill(3);
  const p = core.scrape(target, [h]);
  core.handleMessage(
    encodeUdpResponse({ action: 'connect', transactionId: sent[0]!.transactionId, connectionId: 9n }),
    from,
  );
  core.handleMessage(
    encodeUdpResponse({
      action: 'scrape',
      transactionId: sent[1]!.transactionId,
      files: [{ complete: 1, downloaded: 2, incomplete: 3 }],
    }),
    from,
  );
  assert.deepEqual(await p, [{ infoHash: h, complete: 1, downloaded: 2, incomplete: 3 }]);
});

test('an aborted request stops retransmitting and rejects', async () => {
  const { sent, core, clock } = setup();
  const ac = new AbortController();
  const p = core.announce(target, req, undefined, ac.signal);
  ac.abort();
  await assert.rejects(p, { code: 'TRACKER_ABORTED' });
  clock.advance(5000);
  core.upkeep();
  await flush();
  assert.equal(sent.length, 1);
});
