import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '../../bencode/index.js';
import { utf8 } from '../../util/bytes.js';
import type { AnnounceRequest } from './announce.js';
import {
  buildAnnounceUrl,
  buildScrapeUrl,
  decodeAnnounceResponse,
  decodeScrapeResponse,
  encodeAnnounceResponse,
  encodeFailure,
  encodeScrapeResponse,
  parseAnnounceQuery,
  parseScrapeQuery,
  scrapeUrlFromAnnounce,
} from './http.js';

// Contains NUL, '%', '&', '=', '+', space and high bytes: catches text-versus-bytes bugs.
const INFO_HASH = Uint8Array.from([
  0, 0x25, 0x26, 0x3d, 0x2b, 0x20, 0xff, 0x80, 0x41, 0x7e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
]);
const PEER_ID = utf8('-PD0001-abcdefghijkl');

const request: AnnounceRequest = {
  infoHash: INFO_HASH,
  peerId: PEER_ID,
  port: 6881,
  uploaded: 10,
  downloaded: 20,
  left: 2 ** 40,
  event: 'started',
  numWant: 50,
  key: 0xdeadbeef,
  trackerId: utf8('tid 1'),
};

test('builds an announce URL with info_hash percent-encoded byte by byte', () => {
  const url = buildAnnounceUrl('http://t.example/announce', request);
  assert.equal(
    url,
    'http://t.example/announce?info_hash=%00%25%26%3D%2B%20%FF%80A~%01%02%03%04%05%06%07%08%09%0A' +
      '&peer_id=-PD0001-abcdefghijkl&port=6881&uploaded=10&downloaded=20&left=1099511627776&compact=1' +
      '&event=started&numwant=50&key=DEADBEEF&trackerid=tid%201',
  );
});

test('keeps the query parameters of the announce URL (passkeys) and drops a fragment', () => {
  const url = buildAnnounceUrl('https://t.example/a/announce.php?passkey=s3cret#frag', {
    ...request,
    event: 'none',
  });
  assert.ok(url.startsWith('https://t.example/a/announce.php?passkey=s3cret&info_hash=%00'));
  assert.ok(!url.includes('#'));
  assert.ok(!url.includes('event='));
});

test('parses a raw announce query back to the same request, info_hash as raw bytes', () => {
  const url = buildAnnounceUrl('http://t.example/announce?passkey=x', { ...request, ipv6: '2001:db8::2' });
  const parsed = parseAnnounceQuery(url.slice(url.indexOf('?')));
  assert.deepEqual(parsed.infoHash, INFO_HASH);
  assert.deepEqual(parsed.peerId, PEER_ID);
  assert.equal(parsed.port, 6881);
  assert.equal(parsed.left, 2 ** 40);
  assert.equal(parsed.event, 'started');
  assert.equal(parsed.numWant, 50);
  assert.equal(parsed.key, 0xdeadbeef);
  assert.equal(parsed.compact, true);
  assert.equal(parsed.ipv6, '2001:db8::2');
  assert.deepEqual(parsed.trackerId, utf8('tid 1'));
});

test('reads + as a space and unescaped bytes as themselves in a raw query', () => {
  const q = `info_hash=${'a'.repeat(19)}+&peer_id=${'b'.repeat(20)}&port=1&left=0`;
  assert.deepEqual(parseAnnounceQuery(q).infoHash, utf8(`${'a'.repeat(19)} `));
});

test('rejects announce queries with missing or invalid fields with clear codes', () => {
  const ok = `info_hash=${'a'.repeat(20)}&peer_id=${'b'.repeat(20)}&port=1`;
  const cases: Array<[string, string]> = [
    [`peer_id=${'b'.repeat(20)}&port=1`, 'TRACKER_MISSING_PARAM'],
    [`info_hash=${'a'.repeat(20)}&port=1`, 'TRACKER_MISSING_PARAM'],
    [`info_hash=${'a'.repeat(20)}&peer_id=${'b'.repeat(20)}`, 'TRACKER_MISSING_PARAM'],
    [`info_hash=${'a'.repeat(19)}&peer_id=${'b'.repeat(20)}&port=1`, 'TRACKER_BAD_PARAM'],
    [`${ok.replace('port=1', 'port=0')}`, 'TRACKER_BAD_PARAM'],
    [`${ok.replace('port=1', 'port=65536')}`, 'TRACKER_BAD_PARAM'],
    [`${ok}&left=-5`, 'TRACKER_BAD_PARAM'],
    [`${ok}&uploaded=12345678901234567890`, 'TRACKER_BAD_PARAM'],
    [`${ok}&event=bogus`, 'TRACKER_BAD_PARAM'],
    [`${ok}&ipv6=1.2.3.4`, 'TRACKER_BAD_PARAM'],
    [`${ok}&x=%zz`, 'TRACKER_BAD_PARAM'],
    [`${ok}&x=${'y'.repeat(300)}`, 'TRACKER_BAD_PARAM'],
    [`${ok}${'&a=1'.repeat(200)}`, 'TRACKER_BAD_PARAM'],
    ['a'.repeat(9000), 'TRACKER_BAD_PARAM'],
  ];
  for (const [q, code] of cases) assert.throws(() => parseAnnounceQuery(q), { code }, q.slice(0, 80));
  assert.equal(parseAnnounceQuery(`${ok}&numwant=-1`).numWant, undefined);
  assert.equal(parseAnnounceQuery(`${ok}&event=paused`).event, 'none');
});

test('round-trips a compact announce response with IPv4 and IPv6 peers', () => {
  const res = {
    intervalSeconds: 1800,
    minIntervalSeconds: 60,
    complete: 3,
    incomplete: 4,
    peers: [
      { host: '1.2.3.4', port: 5 },
      { host: '2001:db8::9', port: 6 },
    ],
    warning: 'be nice',
    trackerId: utf8('abc'),
  };
  const bytes = encodeAnnounceResponse(res, { compact: true });
  assert.deepEqual(decodeAnnounceResponse(bytes), res);
});

test('round-trips a dictionary-model announce response, with and without peer ids', () => {
  const id = new Uint8Array(20).fill(7);
  const res = { intervalSeconds: 900, peers: [{ host: '1.2.3.4', port: 5, peerId: id }] };
  assert.deepEqual(decodeAnnounceResponse(encodeAnnounceResponse(res, { compact: false })), res);
  const noId = decodeAnnounceResponse(encodeAnnounceResponse(res, { compact: false, noPeerId: true }));
  assert.deepEqual(noId.peers, [{ host: '1.2.3.4', port: 5 }]);
});

test('hostile announce responses are TrackerErrors with stable codes', () => {
  const cases: Array<[Uint8Array, string]> = [
    [utf8('<html>502 Bad Gateway</html>'), 'TRACKER_NOT_BENCODE'],
    [encode([1, 2]), 'TRACKER_NOT_BENCODE'],
    [encode({ interval: -1, peers: new Uint8Array() }), 'TRACKER_BAD_INTERVAL'],
    [encode({ interval: 10, 'min interval': 'x' }), 'TRACKER_BAD_INTERVAL'],
    [encode({ interval: 10 ** 12 }), 'TRACKER_BAD_INTERVAL'],
    [encode({ interval: 10, peers: new Uint8Array(7) }), 'TRACKER_BAD_PEERS'],
    [encode({ interval: 10, peers6: new Uint8Array(6) }), 'TRACKER_BAD_PEERS'],
    [encode({ interval: 10, peers: 5 }), 'TRACKER_BAD_PEERS'],
    [encode({ interval: 10, complete: -3 }), 'TRACKER_BAD_RESPONSE'],
    [encodeFailure('torrent not registered'), 'TRACKER_FAILURE'],
  ];
  for (const [body, code] of cases) assert.throws(() => decodeAnnounceResponse(body), { code });
  assert.throws(() => decodeAnnounceResponse(encodeFailure('nope')), { failureReason: 'nope' });
});

test('caps the number of peers kept from one response', () => {
  const peers = Array.from({ length: 50 }, (_, i) => ({ host: `10.0.0.${i + 1}`, port: 1 }));
  const bytes = encodeAnnounceResponse({ intervalSeconds: 1, peers }, { compact: true });
  assert.equal(decodeAnnounceResponse(bytes, { maxPeers: 10 }).peers.length, 10);
});

test('derives the scrape URL only when the last path segment starts with announce (BEP 48)', () => {
  const cases: Array<[string, string | null]> = [
    ['http://example.com/announce', 'http://example.com/scrape'],
    ['http://example.com/x/announce', 'http://example.com/x/scrape'],
    ['http://example.com/announce.php', 'http://example.com/scrape.php'],
    ['http://example.com/announce?x2%0644', 'http://example.com/scrape?x2%0644'],
    ['http://example.com/a', null],
    ['http://example.com/announce?x=2/4', 'http://example.com/scrape?x=2/4'],
    ['http://example.com/x%064announce', null],
    ['http://example.com/announce/x', null],
    ['http://example.com', null],
  ];
  for (const [announce, scrape] of cases) assert.equal(scrapeUrlFromAnnounce(announce), scrape, announce);
});

test('builds and parses a scrape request with repeated info_hash', () => {
  const h2 = new Uint8Array(20).fill(0xee);
  const url = buildScrapeUrl('http://t/announce?passkey=k', [INFO_HASH, h2]);
  assert.ok(url?.startsWith('http://t/scrape?passkey=k&info_hash=%00'));
  assert.deepEqual(parseScrapeQuery(url!.slice(url!.indexOf('?'))), [INFO_HASH, h2]);
  assert.throws(() => parseScrapeQuery('info_hash=abc'), { code: 'TRACKER_BAD_PARAM' });
});

test('round-trips a scrape response keyed by raw info-hash bytes', () => {
  const files = [{ infoHash: INFO_HASH, complete: 1, downloaded: 2, incomplete: 3 }];
  assert.deepEqual(decodeScrapeResponse(encodeScrapeResponse(files)), files);
  assert.throws(() => decodeScrapeResponse(encode({ nofiles: 1 })), { code: 'TRACKER_BAD_RESPONSE' });
  assert.throws(() => decodeScrapeResponse(encodeFailure('x')), { code: 'TRACKER_FAILURE' });
});
