import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { encode } from '../../bencode/index.js';
import { bindUdp, type UdpSocket } from '../../net/udp.js';
import { utf8 } from '../../util/bytes.js';
import type { AnnounceRequest } from '../protocol/announce.js';
import { encodeAnnounceResponse, parseAnnounceQuery } from '../protocol/http.js';
import { decodeUdpRequest, encodeUdpResponse } from '../protocol/udp.js';
import { HttpTrackerTransport } from './http-transport.js';
import { TrackerClient } from './tracker-client.js';
import { DefaultTrackerTransport } from './transport.js';
import { UdpTrackerTransport } from './udp-transport.js';

const INFO_HASH = Uint8Array.from([0, 0x25, 0x26, 0xff, ...new Array(16).fill(7)]);
const req: AnnounceRequest = {
  infoHash: INFO_HASH,
  peerId: utf8('-PD0001-000000000000'),
  port: 6881,
  uploaded: 0,
  downloaded: 0,
  left: 10,
  event: 'started',
};

let http: Server;
let base = '';
const seen: AnnounceRequest[] = [];

before(async () => {
  http = createServer((rq, rs) => {
    const url = rq.url ?? '/';
    const q = url.slice(url.indexOf('?') + 1);
    if (url.startsWith('/announce')) {
      const parsed = parseAnnounceQuery(q);
      seen.push(parsed);
      rs.end(
        encodeAnnounceResponse(
          { intervalSeconds: 60, peers: [{ host: '10.1.2.3', port: 4 }] },
          { compact: true },
        ),
      );
    } else if (url.startsWith('/html')) rs.end('<html>oops</html>');
    else if (url.startsWith('/huge')) {
      rs.write('d8:intervali60e5:peers');
      const chunk = Buffer.alloc(64 * 1024, 0x31);
      let n = 0;
      const pump = () => {
        while (n++ < 100) if (!rs.write(chunk)) return void rs.once('drain', pump);
        rs.end();
      };
      pump();
    } else if (url.startsWith('/slow')) setTimeout(() => rs.end('de'), 2000);
    else if (url.startsWith('/404')) {
      rs.statusCode = 404;
      rs.end(encode({ 'failure reason': 'unregistered torrent' }));
    } else if (url.startsWith('/500')) {
      rs.statusCode = 500;
      rs.end('boom');
    } else if (url.startsWith('/scrape')) {
      rs.end(
        encode({
          files: new Map([
            [Buffer.from(INFO_HASH).toString('latin1'), { complete: 1, downloaded: 2, incomplete: 3 }],
          ]),
        }),
      );
    }
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

after(() => http.close());

test('HTTP announce over a real socket: raw-byte info_hash and passkey reach the server', async () => {
  const t = new HttpTrackerTransport();
  const res = await t.announce(`${base}/announce?passkey=abc`, req);
  assert.deepEqual(res.peers, [{ host: '10.1.2.3', port: 4 }]);
  assert.deepEqual(seen.at(-1)?.infoHash, INFO_HASH);
});

test('HTTP announce to a port the Fetch standard calls bad (6665-6669, 6000, 10080…) works, and redirects are followed', async (t) => {
  // `peerdrop tracker --http-port 6667` must be reachable by peerdrop's own client: the global
  // fetch refuses these ports ("bad port"), node:http does not.
  const server = createServer((rq, rs) => {
    if (rq.url?.startsWith('/moved')) {
      rs.writeHead(302, { location: `/announce${rq.url.slice('/moved'.length)}` });
      rs.end();
      return;
    }
    rs.end(
      encodeAnnounceResponse(
        { intervalSeconds: 60, peers: [{ host: '10.9.9.9', port: 9 }] },
        { compact: true },
      ),
    );
  });
  let port = 0;
  for (const candidate of [6667, 6666, 6668, 6669, 6665, 6000, 10080, 6697]) {
    const ok = await new Promise<boolean>((r) => {
      server.once('error', () => r(false));
      server.listen(candidate, '127.0.0.1', () => r(true));
    });
    if (ok) {
      port = candidate;
      break;
    }
  }
  if (port === 0) return void t.skip('every blocked port is in use on 127.0.0.1');
  try {
    const url = `http://127.0.0.1:${port}/announce`;
    await assert.rejects(fetch(url), 'the global fetch refuses this port (else the test proves nothing)');
    const transport = new HttpTrackerTransport();
    assert.deepEqual((await transport.announce(url, req)).peers, [{ host: '10.9.9.9', port: 9 }]);
    const moved = await transport.announce(`http://127.0.0.1:${port}/moved`, req);
    assert.deepEqual(moved.peers, [{ host: '10.9.9.9', port: 9 }]);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('HTTP scrape over a real socket', async () => {
  const t = new HttpTrackerTransport();
  assert.deepEqual(await t.scrape(`${base}/announce`, [INFO_HASH]), [
    { infoHash: INFO_HASH, complete: 1, downloaded: 2, incomplete: 3 },
  ]);
});

test('HTTP hostile answers: not bencode, body over the cap, timeout, status codes', async () => {
  const t = new HttpTrackerTransport({ maxBodyBytes: 256 * 1024, timeoutMs: 300 });
  await assert.rejects(t.announce(`${base}/html`, req), { code: 'TRACKER_NOT_BENCODE' });
  await assert.rejects(t.announce(`${base}/huge`, req), { code: 'TRACKER_RESPONSE_TOO_LARGE' });
  await assert.rejects(t.announce(`${base}/slow`, req), { code: 'TRACKER_TIMEOUT' });
  await assert.rejects(t.announce(`${base}/404`, req), {
    code: 'TRACKER_FAILURE',
    failureReason: 'unregistered torrent',
  });
  await assert.rejects(t.announce(`${base}/500`, req), { code: 'TRACKER_HTTP_STATUS' });
  await assert.rejects(t.announce('http://127.0.0.1:1/announce', req), { code: 'TRACKER_NETWORK' });
});

/** A minimal BEP 15 tracker for the test: one connection id, fixed answers. */
async function startUdpTracker(
  host: string,
  type: 'udp4' | 'udp6',
): Promise<{ socket: UdpSocket; urlData: string[] }> {
  const socket = await bindUdp({ host, type });
  const urlData: string[] = [];
  socket.onMessage((bytes, from) => {
    const m = decodeUdpRequest(bytes);
    const family = type === 'udp6' ? 6 : 4;
    if (m.action === 'connect') {
      socket.send(
        encodeUdpResponse({ action: 'connect', transactionId: m.transactionId, connectionId: 77n }),
        from.host,
        from.port,
      );
    } else if (m.action === 'announce') {
      assert.equal(m.connectionId, 77n);
      urlData.push(new TextDecoder().decode(m.urlData ?? new Uint8Array()));
      const peers = [{ host: family === 6 ? '2001:db8::5' : '10.0.0.5', port: m.request.port }];
      const response = { intervalSeconds: 60, complete: 1, incomplete: 0, peers };
      socket.send(
        encodeUdpResponse({ action: 'announce', transactionId: m.transactionId, response }, family),
        from.host,
        from.port,
      );
    } else {
      const files = m.infoHashes.map(() => ({ complete: 5, downloaded: 6, incomplete: 7 }));
      socket.send(
        encodeUdpResponse({ action: 'scrape', transactionId: m.transactionId, files }),
        from.host,
        from.port,
      );
    }
  });
  return { socket, urlData };
}

test('UDP announce and scrape over real IPv4 sockets, with BEP 41 URL data', async () => {
  const tracker = await startUdpTracker('127.0.0.1', 'udp4');
  const t = new UdpTrackerTransport({ bindHost4: '127.0.0.1', baseTimeoutMs: 500 });
  try {
    const url = `udp://127.0.0.1:${tracker.socket.address().port}/announce?passkey=x`;
    const res = await t.announce(url, req);
    assert.deepEqual(res.peers, [{ host: '10.0.0.5', port: 6881 }]);
    assert.deepEqual(tracker.urlData, ['/announce?passkey=x']);
    assert.deepEqual(await t.scrape(url, [INFO_HASH]), [
      { infoHash: INFO_HASH, complete: 5, downloaded: 6, incomplete: 7 },
    ]);
  } finally {
    await t.close();
    await tracker.socket.close();
  }
});

test('UDP announce over IPv6 gets 18-byte peers', async (t) => {
  let tracker: Awaited<ReturnType<typeof startUdpTracker>>;
  try {
    tracker = await startUdpTracker('::1', 'udp6');
  } catch {
    t.skip('no IPv6 loopback');
    return;
  }
  const transport = new UdpTrackerTransport({ bindHost6: '::1', baseTimeoutMs: 500 });
  try {
    const res = await transport.announce(`udp://[::1]:${tracker.socket.address().port}`, req);
    assert.deepEqual(res.peers, [{ host: '2001:db8::5', port: 6881 }]);
  } finally {
    await transport.close();
    await tracker.socket.close();
  }
});

test('UDP announce to a silent tracker times out after the configured retries', async () => {
  const silent = await bindUdp({ host: '127.0.0.1', type: 'udp4' });
  const t = new UdpTrackerTransport({ bindHost4: '127.0.0.1', baseTimeoutMs: 50, maxRetries: 2 });
  try {
    const started = Date.now();
    await assert.rejects(t.announce(`udp://127.0.0.1:${silent.address().port}/announce`, req), {
      code: 'TRACKER_TIMEOUT',
    });
    assert.ok(Date.now() - started >= 300);
  } finally {
    await t.close();
    await silent.close();
  }
});

test('TrackerClient announces to real HTTP and UDP trackers in two tiers and stops', async () => {
  const tracker = await startUdpTracker('127.0.0.1', 'udp4');
  const transport = new DefaultTrackerTransport({ udp: { bindHost4: '127.0.0.1', baseTimeoutMs: 500 } });
  const peers: string[] = [];
  const client = new TrackerClient({
    infoHash: INFO_HASH,
    peerId: req.peerId,
    port: 7000,
    announceTiers: [[`${base}/announce`], [`udp://127.0.0.1:${tracker.socket.address().port}/announce`]],
    getStats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
    transport,
  });
  const got = new Promise<void>((resolve) =>
    client.on('peers', (ps) => {
      peers.push(...ps.map((p) => `${p.host}:${p.port}`));
      if (peers.length >= 2) resolve();
    }),
  );
  client.start();
  await got;
  assert.deepEqual(peers.sort(), ['10.0.0.5:7000', '10.1.2.3:4']);
  const before = seen.length;
  await client.stop();
  assert.equal(seen.at(-1)?.event, 'stopped');
  assert.equal(seen.length, before + 1);
  await transport.close();
  await tracker.socket.close();
});
