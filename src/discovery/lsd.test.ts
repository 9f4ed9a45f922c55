import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeLsdAnnounce, LSD_MAX_BYTES, LsdCore, type LsdFamily, parseLsdAnnounce } from './lsd.js';

const IH = 'aa'.repeat(20);
const IH2 = 'bb'.repeat(20);
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

test('encode and parse round-trip; the message is the one BEP 14 shows', () => {
  const bytes = encodeLsdAnnounce({
    family: 'IPv4',
    port: 6881,
    infoHashes: [IH.toUpperCase()],
    cookie: 'c0ffee',
  });
  assert.equal(
    new TextDecoder().decode(bytes),
    `BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: ${IH}\r\ncookie: c0ffee\r\n\r\n\r\n`,
  );
  const r = parseLsdAnnounce(bytes);
  assert.ok(r.ok);
  assert.deepEqual(r.announce, {
    port: 6881,
    infoHashes: [IH],
    cookie: 'c0ffee',
    host: '239.192.152.143:6771',
  });
  const v6 = new TextDecoder().decode(
    encodeLsdAnnounce({ family: 'IPv6', port: 1, infoHashes: [IH], cookie: 'x' }),
  );
  assert.match(v6, /Host: \[ff15::efc0:988f\]:6771\r\n/);
});

test('parses what libtorrent and Transmission send (no cookie, header case, several info-hashes)', () => {
  const r = parseLsdAnnounce(
    ascii(
      `BT-SEARCH * HTTP/1.1\r\nhost: 239.192.152.143:6771\r\nPORT:51413\r\nInfoHash: ${IH}\r\ninfohash: ${IH2}\r\nInfohash: ${IH}\r\nX-Other: 1\r\n\r\n`,
    ),
  );
  assert.ok(r.ok);
  assert.equal(r.announce.port, 51413);
  assert.deepEqual(r.announce.infoHashes, [IH, IH2]);
  assert.equal(r.announce.cookie, null);
});

test('rejects every malformed shape with a reason', () => {
  const good = `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${IH}\r\n\r\n`;
  const cases: [string | Uint8Array, string][] = [
    [good.replace('BT-SEARCH', 'M-SEARCH'), 'bad-request-line'],
    [good.replace(/\r\n/g, '\n'), 'bad-line-ending'],
    [good.replace('Port: 1', 'Port: 0'), 'bad-port'],
    [good.replace('Port: 1', 'Port: 65536'), 'bad-port'],
    [good.replace('Port: 1', 'Port: +1'), 'bad-port'],
    [good.replace('Port: 1\r\n', 'Port: 1\r\nPort: 2\r\n'), 'bad-port'],
    [good.replace('Port: 1\r\n', ''), 'bad-port'],
    [good.replace(IH, IH.slice(1)), 'bad-infohash'],
    [good.replace(IH, `${IH.slice(1)}g`), 'bad-infohash'],
    [good.replace(`Infohash: ${IH}\r\n`, ''), 'no-infohash'],
    [good.replace('\r\n\r\n', '\r\n'), 'trailing-data'],
    [`${good}junk`, 'trailing-data'],
    [good.replace('Port: 1', 'Port 1'), 'bad-header'],
    [good.replace('Port: 1', 'Port: 1\r\ncookie: a b'), 'bad-cookie'],
    [good.replace('Port: 1', `Port: 1\r\nX: ${'a'.repeat(300)}`), 'line-too-long'],
    [good.replace('Port: 1', `Port: 1${'\r\nX: 1'.repeat(30)}`), 'too-many-lines'],
    [good.replace(`Infohash: ${IH}\r\n`, `Infohash: ${IH}\r\n`.repeat(17)), 'too-many-infohashes'],
    [Uint8Array.of(...ascii(good), 0xc3, 0xa9), 'not-ascii'],
    [new Uint8Array(LSD_MAX_BYTES + 1), 'too-large'],
  ];
  for (const [input, error] of cases) {
    const r = parseLsdAnnounce(typeof input === 'string' ? ascii(input) : input);
    assert.deepEqual(r, { ok: false, error }, JSON.stringify(typeof input === 'string' ? input : 'bytes'));
  }
});

function harness(opts: { interval?: number; perSource?: number; maxSources?: number } = {}) {
  let now = 0;
  const sent: { family: LsdFamily; text: string; at: number }[] = [];
  const peers: { ih: string; host: string; port: number }[] = [];
  const core = new LsdCore({
    now: () => now,
    cookie: 'ours',
    families: ['IPv4', 'IPv6'],
    send: (family, bytes) => sent.push({ family, text: new TextDecoder().decode(bytes), at: now }),
    onPeer: (ih, p) => peers.push({ ih, ...p }),
    ...(opts.interval === undefined ? {} : { announceIntervalMs: opts.interval }),
    ...(opts.perSource === undefined ? {} : { maxPerSourcePerMinute: opts.perSource }),
    ...(opts.maxSources === undefined ? {} : { maxSources: opts.maxSources }),
  });
  return {
    core,
    sent,
    peers,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const from = (host: string) => ({ host, port: 6771, family: 'IPv4' as const });

test('a torrent is announced on start on each family, then no more than once a minute', () => {
  const h = harness({ interval: 1000 }); // below the floor: clamped to 60 s
  h.core.add(IH, () => 7000);
  assert.equal(h.core.upkeep(), 60_000);
  assert.deepEqual(
    h.sent.map((s) => s.family),
    ['IPv4', 'IPv6'],
  );
  assert.match(h.sent[0]!.text, /Port: 7000/);
  for (let t = 0; t < 59; t++) {
    h.advance(1000);
    h.core.upkeep();
  }
  assert.equal(h.sent.length, 2);
  h.advance(1000);
  h.core.upkeep();
  assert.equal(h.sent.length, 4);
});

test("our own announce is ignored by cookie; a peer's announce is reported and brings ours forward", () => {
  const h = harness();
  h.core.add(IH, () => 7000);
  h.core.upkeep();
  h.core.handleMessage(ascii(h.sent[0]!.text), from('192.168.1.5'));
  assert.equal(h.peers.length, 0);
  assert.equal(h.core.stats.ownIgnored, 1);
  h.advance(10_000);
  const theirs = encodeLsdAnnounce({ family: 'IPv4', port: 5555, infoHashes: [IH, IH2], cookie: 'theirs' });
  h.core.handleMessage(theirs, from('192.168.1.9'));
  assert.deepEqual(h.peers, [{ ih: IH, host: '192.168.1.9', port: 5555 }]);
  // Announced at 0, heard at 10 s: our answer waits for the one-minute budget, not 5 minutes.
  assert.equal(h.core.upkeep(), 50_000);
  h.advance(50_000);
  h.core.upkeep();
  assert.equal(h.sent.length, 4);
  // A flood of their announces cannot make us send more than once a minute.
  for (let i = 0; i < 20; i++) h.core.handleMessage(theirs, from('192.168.1.9'));
  h.advance(30_000);
  h.core.upkeep();
  assert.equal(h.sent.length, 4);
  // A removed torrent is neither announced nor reported.
  h.core.remove(IH);
  h.advance(600_000);
  h.core.upkeep();
  h.core.handleMessage(theirs, from('192.168.1.10'));
  assert.equal(h.sent.length, 4);
  assert.equal(h.peers.length, 21);
});

test('incoming datagrams are capped per source and per number of sources; forged sources are dropped', () => {
  const h = harness({ perSource: 5, maxSources: 3 });
  h.core.add(IH, () => 1);
  const msg = encodeLsdAnnounce({ family: 'IPv4', port: 5555, infoHashes: [IH], cookie: 'x' });
  for (let i = 0; i < 50; i++) h.core.handleMessage(msg, from('10.0.0.1'));
  assert.equal(h.peers.length, 5);
  assert.equal(h.core.stats.rateLimited, 45);
  for (const host of ['10.0.0.2', '10.0.0.3', '10.0.0.4']) h.core.handleMessage(msg, from(host));
  assert.deepEqual(
    h.peers.slice(5).map((p) => p.host),
    ['10.0.0.2', '10.0.0.3'],
  );
  // A minute later the windows reset.
  h.advance(60_000);
  h.core.handleMessage(msg, from('10.0.0.4'));
  assert.equal(h.peers.at(-1)!.host, '10.0.0.4');
  const before = h.peers.length;
  h.core.handleMessage(msg, from('239.192.152.143'));
  h.core.handleMessage(msg, { host: 'ff02::1', port: 6771, family: 'IPv6' });
  assert.equal(h.peers.length, before);
  const h6 = harness();
  h6.core.add(IH, () => 1);
  h6.core.handleMessage(msg, { host: 'fe80::1%eth0', port: 6771, family: 'IPv6' });
  assert.deepEqual(h6.peers, [{ ih: IH, host: 'fe80::1%eth0', port: 5555 }]);
});

test('a torrent added before we listen waits for a port', () => {
  const h = harness();
  let port = 0;
  h.core.add(IH, () => port);
  assert.equal(h.core.upkeep(), 1000);
  assert.equal(h.sent.length, 0);
  port = 6881;
  h.advance(1000);
  h.core.upkeep();
  assert.equal(h.sent.length, 2);
});

test('a torrent added just after a peer announced it meets that peer at once (within 5 minutes)', () => {
  const h = harness({ perSource: 2000, maxSources: 2000 });
  const msg = (ih: string, port: number) =>
    encodeLsdAnnounce({ family: 'IPv4', port, infoHashes: [ih], cookie: 'x' });
  h.core.handleMessage(msg(IH, 5000), from('10.0.0.7'));
  h.core.handleMessage(msg(IH2, 5001), from('10.0.0.8'));
  assert.equal(h.peers.length, 0);
  h.advance(299_000);
  h.core.add(IH, () => 1);
  assert.deepEqual(h.peers, [{ ih: IH, host: '10.0.0.7', port: 5000 }]);
  h.advance(2000);
  h.core.add(IH2, () => 1);
  assert.equal(h.peers.length, 1, 'forgotten after 5 minutes');
  // The table is bounded.
  for (let i = 0; i < 1000; i++)
    h.core.handleMessage(msg(i.toString(16).padStart(40, '0'), 1), from(`10.1.${i >> 8}.${i & 255}`));
  assert.ok((h.core as unknown as { recent: Map<string, number> }).recent.size <= 256);
});
