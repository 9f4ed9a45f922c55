import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, test } from 'node:test';
import { decode, isBytes, isDict, isList } from '../../bencode/index.js';
import { startTrackerServer, type TrackerServer } from './tracker-server.js';

/**
 * The real transports on 127.0.0.1. The UDP conversation is written out byte by byte from
 * BEP 15 (not through our codec) so a codec bug cannot hide on both sides.
 */

const HASH = Buffer.alloc(20, 0x11);
const PRIVATE_HASH = Buffer.alloc(20, 0x22);

function hexPeerId(n: number): Buffer {
  const id = Buffer.alloc(20, 0x61);
  id.writeUInt32BE(n, 16);
  return id;
}

function pct(bytes: Buffer): string {
  return [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

class UdpClient {
  private readonly socket: Socket = createSocket('udp4');
  private readonly inbox: Buffer[] = [];
  private waiter: ((b: Buffer) => void) | null = null;

  async open(): Promise<void> {
    this.socket.on('message', (m) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(m);
      } else this.inbox.push(m);
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
  }

  /** Send and wait for one reply; null if none within `timeoutMs` (the server stayed silent). */
  exchange(port: number, packet: Buffer, timeoutMs = 1000): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const queued = this.inbox.shift();
      if (queued) return resolve(queued);
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, timeoutMs);
      this.waiter = (b) => {
        clearTimeout(timer);
        resolve(b);
      };
      this.socket.send(packet, port, '127.0.0.1');
    });
  }

  close(): void {
    this.socket.close();
  }
}

function connectPacket(tid: number): Buffer {
  const p = Buffer.alloc(16);
  p.writeBigUInt64BE(0x41727101980n, 0);
  p.writeUInt32BE(0, 8);
  p.writeUInt32BE(tid, 12);
  return p;
}

function announcePacket(
  cid: Buffer,
  tid: number,
  peer: number,
  port: number,
  left: bigint,
  urlData?: string,
) {
  const p = Buffer.alloc(98);
  cid.copy(p, 0);
  p.writeUInt32BE(1, 8);
  p.writeUInt32BE(tid, 12);
  HASH.copy(p, 16);
  hexPeerId(peer).copy(p, 36);
  p.writeBigUInt64BE(0n, 56); // downloaded
  p.writeBigUInt64BE(left, 64);
  p.writeBigUInt64BE(0n, 72); // uploaded
  p.writeUInt32BE(2, 80); // started
  p.writeUInt32BE(0, 84); // ip: default
  p.writeUInt32BE(0xabcd, 88); // key
  p.writeInt32BE(-1, 92); // num_want: default
  p.writeUInt16BE(port, 96);
  if (urlData === undefined) return p;
  const data = Buffer.from(urlData);
  return Buffer.concat([p, Buffer.from([2, data.length]), data, Buffer.from([0])]);
}

let server: TrackerServer;
let priv: TrackerServer;
let udpPort: number;

before(async () => {
  server = await startTrackerServer({ httpPort: 0, udpPort: 0, rateLimitPerSecond: 0, intervalSeconds: 120 });
  udpPort = Number(new URL(server.udpAnnounceUrl!).port);
  priv = await startTrackerServer({
    httpPort: 0,
    udpPort: 0,
    passkeys: ['alice-key'],
    allowList: [PRIVATE_HASH],
  });
});

after(async () => {
  await server.close();
  await priv.close();
});

test('a BEP 15 conversation byte by byte: connect, announce, scrape', async () => {
  const a = new UdpClient();
  const b = new UdpClient();
  await a.open();
  await b.open();
  try {
    const conn = await a.exchange(udpPort, connectPacket(0x01020304));
    assert.ok(conn);
    assert.equal(conn.length, 16);
    assert.equal(conn.readUInt32BE(0), 0, 'action connect');
    assert.equal(conn.readUInt32BE(4), 0x01020304, 'transaction id echoed');
    const cid = conn.subarray(8, 16);
    assert.notEqual(cid.readBigUInt64BE(0), 0x41727101980n, 'not the protocol magic');

    const first = await a.exchange(udpPort, announcePacket(cid, 7, 1, 6881, 0n));
    assert.ok(first);
    assert.equal(first.length, 20, 'no peers yet: header only');
    assert.equal(first.readUInt32BE(0), 1);
    assert.equal(first.readUInt32BE(4), 7);
    assert.equal(first.readUInt32BE(8), 120, 'interval');
    assert.equal(first.readUInt32BE(12), 0, 'leechers');
    assert.equal(first.readUInt32BE(16), 1, 'seeders: the announcer itself');

    const connB = await b.exchange(udpPort, connectPacket(9));
    const cidB = connB!.subarray(8, 16);
    assert.notDeepEqual(cidB, cid, 'each address gets its own id');
    const second = await b.exchange(udpPort, announcePacket(cidB, 8, 2, 6882, 1000n));
    assert.ok(second);
    assert.equal(second.length, 26, 'one IPv4 peer of 6 bytes');
    assert.deepEqual([...second.subarray(20, 24)], [127, 0, 0, 1]);
    assert.equal(second.readUInt16BE(24), 6881);
    assert.equal(second.readUInt32BE(12), 1);
    assert.equal(second.readUInt32BE(16), 1);

    const scrape = Buffer.concat([cid, Buffer.from([0, 0, 0, 2, 0, 0, 0, 5]), HASH, Buffer.alloc(20, 0x99)]);
    const sr = await a.exchange(udpPort, scrape);
    assert.ok(sr);
    assert.equal(sr.length, 8 + 24);
    assert.equal(sr.readUInt32BE(0), 2);
    assert.equal(sr.readUInt32BE(4), 5);
    assert.deepEqual([sr.readUInt32BE(8), sr.readUInt32BE(12), sr.readUInt32BE(16)], [1, 0, 1]);
    assert.deepEqual([sr.readUInt32BE(20), sr.readUInt32BE(24), sr.readUInt32BE(28)], [0, 0, 0]);
  } finally {
    a.close();
    b.close();
  }
});

test('a spoofed or borrowed connection id gets an error packet, garbage gets silence', async () => {
  const a = new UdpClient();
  const b = new UdpClient();
  await a.open();
  await b.open();
  try {
    const forged = Buffer.from('0000041727101980', 'hex');
    const r1 = await a.exchange(udpPort, announcePacket(forged, 42, 3, 7000, 10n));
    assert.ok(r1, 'an error packet, so real clients reconnect');
    assert.equal(r1.readUInt32BE(0), 3, 'action error');
    assert.equal(r1.readUInt32BE(4), 42);
    assert.match(r1.subarray(8).toString(), /connection id/);
    const cidA = (await a.exchange(udpPort, connectPacket(1)))!.subarray(8, 16);
    const r2 = await b.exchange(udpPort, announcePacket(cidA, 43, 4, 7001, 10n));
    assert.equal(r2?.readUInt32BE(0), 3, "another address's id is rejected");
    assert.equal(await a.exchange(udpPort, Buffer.from('not a tracker packet'), 300), null);
    assert.equal(server.stats().rejects.udp['bad-connection-id'], 2);
    assert.ok(server.stats().rejects.udp['bad-request'] >= 1);
  } finally {
    a.close();
    b.close();
  }
});

test('UDP private tracker reads the passkey from BEP 41 URL data', async () => {
  const port = Number(new URL(priv.udpAnnounceUrl!).port);
  const c = new UdpClient();
  await c.open();
  try {
    const cid = (await c.exchange(port, connectPacket(1)))!.subarray(8, 16);
    const p = announcePacket(cid, 2, 5, 7100, 10n, '/announce/alice-key');
    PRIVATE_HASH.copy(p, 16);
    const ok = await c.exchange(port, p);
    assert.equal(ok?.readUInt32BE(0), 1, 'announce accepted');
    const bad = announcePacket(cid, 3, 6, 7101, 10n, '/announce?passkey=mallory');
    PRIVATE_HASH.copy(bad, 16);
    const refused = await c.exchange(port, bad);
    assert.equal(refused?.readUInt32BE(0), 3);
    assert.match(refused!.subarray(8).toString(), /unknown passkey/);
  } finally {
    c.close();
  }
});

async function httpGet(base: string, path: string): Promise<{ status: number; body: Buffer; type: string }> {
  const res = await fetch(new URL(path, base));
  return {
    status: res.status,
    body: Buffer.from(await res.arrayBuffer()),
    type: res.headers.get('content-type') ?? '',
  };
}

function announceQuery(peer: number, port: number, extra = ''): string {
  return `info_hash=${pct(HASH)}&peer_id=${pct(hexPeerId(peer))}&port=${port}&uploaded=0&downloaded=0&left=5${extra}`;
}

test('HTTP announce and scrape over a real socket, compact and dictionary models', async () => {
  const base = server.httpAnnounceUrl!;
  const r1 = await httpGet(base, `/announce?${announceQuery(100, 9100)}&event=started`);
  assert.equal(r1.status, 200);
  const d1 = decode(r1.body);
  assert.ok(isDict(d1));
  assert.equal(d1.get('interval'), 120);
  assert.equal(d1.get('min interval'), 60);
  const peers = d1.get('peers');
  assert.ok(isBytes(peers));
  assert.equal(peers.length % 6, 0);
  assert.ok(peers.length >= 6, 'sees the UDP peers of the earlier test');

  const r2 = await httpGet(base, `/announce?${announceQuery(101, 9101)}&compact=0`);
  const d2 = decode(r2.body);
  assert.ok(isDict(d2));
  const list = d2.get('peers');
  assert.ok(isList(list));
  const mine = list.find((p) => isDict(p) && p.get('port') === 9100);
  assert.ok(mine && isDict(mine));
  assert.ok(hexPeerId(100).equals(mine.get('peer id') as Uint8Array));
  assert.equal(Buffer.from(mine.get('ip') as Uint8Array).toString(), '127.0.0.1');
  const r3 = await httpGet(base, `/announce?${announceQuery(101, 9101)}&compact=0&no_peer_id=1`);
  const l3 = (decode(r3.body) as Map<string, unknown>).get('peers') as Array<Map<string, unknown>>;
  assert.ok(l3.every((p) => !p.has('peer id')));

  const scrape = await httpGet(base, `/scrape?info_hash=${pct(HASH)}`);
  const files = (decode(scrape.body) as Map<string, unknown>).get('files') as Map<
    string,
    Map<string, number>
  >;
  const entry = files.get(HASH.toString('latin1'));
  assert.ok(entry);
  assert.ok(entry.get('incomplete')! >= 2);

  const bad = await httpGet(base, '/announce?info_hash=short');
  const failure = decode(bad.body) as Map<string, unknown>;
  assert.match(Buffer.from(failure.get('failure reason') as Uint8Array).toString(), /missing|must be/);
  assert.equal((await httpGet(base, `/announce?${'x'.repeat(9000)}`)).status, 414);
  assert.equal((await httpGet(base, '/nope')).status, 404);
});

test('/stats is JSON and /metrics is Prometheus text with announces, rejects and gauges', async () => {
  const base = server.httpAnnounceUrl!;
  const stats = await httpGet(base, '/stats');
  assert.equal(stats.type, 'application/json');
  const json = JSON.parse(stats.body.toString()) as Record<string, unknown>;
  assert.ok((json.peers as number) >= 3);
  assert.ok((json.announces as { udp: { started: number } }).udp.started >= 2);
  assert.ok((json.memory as { rssBytes: number }).rssBytes > 0);
  const metrics = (await httpGet(base, '/metrics')).body.toString();
  assert.match(metrics, /# TYPE peerdrop_tracker_announces_total counter/);
  assert.match(metrics, /peerdrop_tracker_announces_total\{protocol="http",event="started"\} [1-9]/);
  assert.match(metrics, /peerdrop_tracker_rejects_total\{protocol="udp",reason="bad-connection-id"\} 2/);
  assert.match(metrics, /^peerdrop_tracker_peers \d+$/m);
  assert.match(metrics, /^peerdrop_tracker_uptime_seconds \d+$/m);
});

test('HTTP private tracker: passkey in the path or query, unknown passkey and unlisted torrent refused', async () => {
  const base = priv.httpAnnounceUrl!;
  const q = announceQuery(200, 9200).replace(pct(HASH), pct(PRIVATE_HASH));
  const ok = decode((await httpGet(base, `/announce/alice-key?${q}`)).body) as Map<string, unknown>;
  assert.equal(ok.has('failure reason'), false);
  const viaQuery = decode((await httpGet(base, `/announce?${q}&passkey=alice-key`)).body) as Map<
    string,
    unknown
  >;
  assert.equal(viaQuery.has('failure reason'), false);
  const reason = (path: string) =>
    httpGet(base, path).then((r) =>
      Buffer.from((decode(r.body) as Map<string, unknown>).get('failure reason') as Uint8Array).toString(),
    );
  assert.equal(await reason(`/announce/mallory?${q}`), 'unknown passkey');
  assert.equal(await reason(`/announce?${q}`), 'unknown passkey');
  assert.equal(
    await reason(`/announce/alice-key?${announceQuery(201, 9201)}`),
    'torrent is not on this tracker',
  );
  assert.equal(await reason(`/scrape/mallory?info_hash=${pct(PRIVATE_HASH)}`), 'unknown passkey');
});

test('the per-IP rate limit answers HTTP with a failure reason and UDP with silence', async () => {
  const limited = await startTrackerServer({ httpPort: 0, udpPort: 0, rateLimitPerSecond: 1 });
  const c = new UdpClient();
  await c.open();
  try {
    const port = Number(new URL(limited.udpAnnounceUrl!).port);
    let answered = 0;
    for (let i = 0; i < 10; i++) if ((await c.exchange(port, connectPacket(i), 100)) !== null) answered++;
    assert.ok(answered >= 1 && answered <= 5, `burst of 4 then silence, got ${answered}`);
    const r = await httpGet(limited.httpAnnounceUrl!, `/announce?${announceQuery(1, 1)}`);
    assert.match(r.body.toString(), /too many requests/);
    assert.ok(limited.stats().rejects.udp['rate-limited'] >= 5);
  } finally {
    c.close();
    await limited.close();
  }
});
