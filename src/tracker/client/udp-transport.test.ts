import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bindUdp, type UdpRemote } from '../../net/udp.js';
import { type DatagramSocket, UdpMux } from '../../net/udp-mux.js';
import { utf8 } from '../../util/bytes.js';
import { VirtualScheduler } from '../../util/clock.js';
import { seededRandom } from '../../util/random.js';
import type { AnnounceRequest } from '../protocol/announce.js';
import { decodeUdpRequest, encodeUdpResponse } from '../protocol/udp.js';
import { startTrackerServer } from '../server/tracker-server.js';
import { UdpTrackerTransport } from './udp-transport.js';

const INFO_HASH = new Uint8Array(20).fill(0x5a);
function request(peer: number, port: number): AnnounceRequest {
  return {
    infoHash: INFO_HASH,
    peerId: utf8(`-PD0001-00000000000${peer}`),
    port,
    uploaded: 0,
    downloaded: 0,
    left: 10,
    event: 'started',
  };
}

test('UDP tracker over the shared port: the project tracker answers through the mux, beside KRPC', async () => {
  const server = await startTrackerServer({ bind: '127.0.0.1', httpPort: null, udpPort: 0 });
  const mux = await UdpMux.bind({ port: 0, host4: '127.0.0.1', families: [4] });
  const krpc: string[] = [];
  mux.register('krpc', (bytes) => krpc.push(new TextDecoder().decode(bytes)));
  const transport = new UdpTrackerTransport({ mux, baseTimeoutMs: 500 });
  const stranger = await bindUdp({ host: '127.0.0.1', type: 'udp4' });
  try {
    const url = server.udpAnnounceUrl!;
    const first = await transport.announce(url, request(1, 7001));
    assert.deepEqual(first.peers, []);
    const second = await transport.announce(url, request(2, 7002));
    assert.deepEqual(second.peers, [{ host: '127.0.0.1', port: 7001 }]);
    const [stats] = await transport.scrape(url, [INFO_HASH]);
    assert.equal(stats?.incomplete, 2);
    // The tracker saw our requests come from the shared port.
    assert.equal(server.registry.totals().peers, 2);

    // A forged BEP 15 reply with a transaction id we never used, and a KRPC query: the first
    // is dropped, the second reaches the DHT handler.
    const forged = encodeUdpResponse({ action: 'connect', transactionId: 0x01020304, connectionId: 1n });
    const queried = new Promise<void>((resolve) => {
      const poll = (): void => void (krpc.length > 0 ? resolve() : setImmediate(poll));
      poll();
    });
    stranger.send(forged, '127.0.0.1', mux.port);
    stranger.send(utf8('d1:y1:qe'), '127.0.0.1', mux.port);
    await queried;
    assert.deepEqual(krpc, ['d1:y1:qe']);
    // One connect (the id is cached), two announces, one scrape.
    assert.equal(mux.stats().delivered.tracker, 4);
    assert.equal(mux.stats().dropped.tracker, 1);
  } finally {
    await transport.close();
    await stranger.close();
    await server.close();
  }
  // Closing the transport leaves the shared port to its owner.
  assert.equal(mux.hasFamily(4), true);
  await mux.close();
});

test('a shared port without IPv6 refuses an IPv6 tracker at once', async () => {
  const socket: DatagramSocket = {
    send: () => {},
    onMessage: () => {},
    address: () => ({ host: '0.0.0.0', port: 6881, family: 'IPv4' }),
    close: async () => {},
  };
  const transport = new UdpTrackerTransport({ mux: new UdpMux([socket]) });
  await assert.rejects(transport.announce('udp://[::1]:6969/announce', request(1, 1)), {
    code: 'TRACKER_NETWORK',
  });
  await transport.close();
});

/** Two in-memory sockets joined by a link with a fixed latency on the virtual scheduler. */
function memoryPair(scheduler: VirtualScheduler, latencyMs: number) {
  const make = (host: string, port: number) => {
    let cb: (bytes: Uint8Array, from: UdpRemote) => void = () => {};
    const socket = {
      peer: undefined as undefined | { deliver: (b: Uint8Array, from: UdpRemote) => void },
      send(bytes: Uint8Array) {
        const from: UdpRemote = { host, port, family: 'IPv4' };
        scheduler.setTimer(latencyMs, () => socket.peer?.deliver(bytes.slice(), from));
      },
      onMessage(fn: typeof cb) {
        cb = fn;
      },
      address: () => ({ host, port, family: 'IPv4' as const }),
      close: async () => {},
      deliver: (bytes: Uint8Array, from: UdpRemote) => cb(bytes, from),
    };
    return socket;
  };
  const a = make('10.0.0.1', 6881);
  const b = make('10.0.0.2', 6969);
  a.peer = b;
  b.peer = a;
  return { ours: a, tracker: b };
}

test('on virtual time over an in-memory port: BEP 15 retransmissions at 15 s · 2^n, then an answer', async () => {
  const scheduler = new VirtualScheduler(0);
  const { ours, tracker } = memoryPair(scheduler, 40);
  const mux = new UdpMux([ours]);
  const transport = new UdpTrackerTransport({ mux, scheduler, random: seededRandom(7) });
  // The tracker ignores the first two connect requests (lost), then answers.
  const seenAtMs: number[] = [];
  tracker.onMessage((bytes, from) => {
    const m = decodeUdpRequest(bytes);
    seenAtMs.push(scheduler.now());
    if (m.action === 'connect' && seenAtMs.length > 2) {
      tracker.send(
        encodeUdpResponse({ action: 'connect', transactionId: m.transactionId, connectionId: 9n }),
      );
    } else if (m.action === 'announce') {
      const response = { intervalSeconds: 900, peers: [{ host: '10.9.9.9', port: 1 }] };
      tracker.send(encodeUdpResponse({ action: 'announce', transactionId: m.transactionId, response }));
    }
    assert.equal(from.host, '10.0.0.1');
  });
  let answeredAtMs = -1;
  const announced = transport.announce('udp://10.0.0.2:6969/announce', request(1, 6881)).then((res) => {
    answeredAtMs = scheduler.now();
    return res;
  });
  for (let i = 0; i < 100 && answeredAtMs < 0; i++) {
    await new Promise<void>((r) => setImmediate(r));
    scheduler.step();
  }
  const res = await announced;
  assert.deepEqual(res.peers, [{ host: '10.9.9.9', port: 1 }]);
  // Sent at 0, 15 s and 15 + 30 s; each hop takes 40 ms.
  assert.deepEqual(seenAtMs, [40, 15_040, 45_040, 45_120]);
  assert.equal(answeredAtMs, 45_160);
  assert.equal(scheduler.pendingTimers, 0, 'no retransmission timer left behind');
  await transport.close();
});

test('on virtual time: a silent tracker fails with TRACKER_TIMEOUT after the last retry', async () => {
  const scheduler = new VirtualScheduler(0);
  const { ours } = memoryPair(scheduler, 10);
  const transport = new UdpTrackerTransport({
    mux: new UdpMux([ours]),
    scheduler,
    baseTimeoutMs: 1_000,
    maxRetries: 3,
  });
  const failed = assert.rejects(transport.announce('udp://10.0.0.2:6969', request(1, 6881)), {
    code: 'TRACKER_TIMEOUT',
  });
  await new Promise<void>((r) => setImmediate(r));
  scheduler.advance(14_999);
  let isSettled = false;
  void failed.then(() => {
    isSettled = true;
  });
  await new Promise<void>((r) => setImmediate(r));
  assert.equal(isSettled, false);
  // 1 + 2 + 4 + 8 s.
  scheduler.advance(1);
  await failed;
  await transport.close();
});
