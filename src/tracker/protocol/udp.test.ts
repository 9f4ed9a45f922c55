import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromHex, toHex, utf8 } from '../../util/bytes.js';
import {
  decodeUdpRequest,
  decodeUdpResponse,
  decodeUrlDataOptions,
  encodeUdpRequest,
  encodeUdpResponse,
  type UdpRequest,
  urlDataOf,
} from './udp.js';

const hex = (s: string): Uint8Array => fromHex(s.replace(/\s+/g, ''))!;
const INFO_HASH = Uint8Array.from({ length: 20 }, (_, i) => i);
const PEER_ID = Uint8Array.from({ length: 20 }, (_, i) => 0xa0 + i);

test('connect request is the BEP 15 magic, action 0 and the transaction id, byte by byte', () => {
  const bytes = encodeUdpRequest({ action: 'connect', transactionId: 0x12345678 });
  assert.equal(toHex(bytes), '0000041727101980' + '00000000' + '12345678');
  assert.deepEqual(decodeUdpRequest(bytes), { action: 'connect', transactionId: 0x12345678 });
});

test('connect response carries the connection id after action and transaction id', () => {
  const fixture = hex('00000000 12345678 0102030405060708');
  assert.deepEqual(decodeUdpResponse(fixture), {
    action: 'connect',
    transactionId: 0x12345678,
    connectionId: 0x0102030405060708n,
  });
  assert.deepEqual(
    encodeUdpResponse({ action: 'connect', transactionId: 0x12345678, connectionId: 0x0102030405060708n }),
    fixture,
  );
});

const announce: UdpRequest = {
  action: 'announce',
  connectionId: 0x0102030405060708n,
  transactionId: 0xcafebabe,
  request: {
    infoHash: INFO_HASH,
    peerId: PEER_ID,
    downloaded: 1,
    left: 2,
    uploaded: 3,
    event: 'started',
    ipv4: '10.0.0.1',
    key: 0x11223344,
    numWant: 200,
    port: 6881,
  },
};

test('announce request has the 98-byte BEP 15 layout', () => {
  const bytes = encodeUdpRequest(announce);
  assert.equal(
    toHex(bytes),
    [
      '0102030405060708', // connection id
      '00000001', // action announce
      'cafebabe', // transaction id
      toHex(INFO_HASH),
      toHex(PEER_ID),
      '0000000000000001', // downloaded
      '0000000000000002', // left
      '0000000000000003', // uploaded
      '00000002', // event started
      '0a000001', // ip
      '11223344', // key
      '000000c8', // num_want
      '1ae1', // port
    ].join(''),
  );
  assert.deepEqual(decodeUdpRequest(bytes), announce);
});

test('announce request carries BEP 41 URL data in 255-byte options and decodes it back', () => {
  const long = utf8(`/announce?passkey=${'k'.repeat(300)}`);
  const bytes = encodeUdpRequest({ ...announce, urlData: long });
  assert.equal(bytes.length, 98 + 2 + 255 + 2 + (long.length - 255));
  assert.deepEqual([...bytes.subarray(98, 100)], [2, 255]);
  const back = decodeUdpRequest(bytes);
  assert.ok(back.action === 'announce');
  assert.deepEqual(back.urlData, long);
});

test('BEP 41 option parsing skips NOP and unknown options and stops at EndOfOptions', () => {
  const opts = Uint8Array.from([1, 2, 3, 0x2f, 0x61, 0x62, 9, 1, 0xff, 2, 1, 0x63, 0, 2, 1, 0x64]);
  assert.deepEqual(decodeUrlDataOptions(opts), utf8('/abc'));
  assert.throws(() => decodeUrlDataOptions(Uint8Array.from([2, 5, 1])), { code: 'TRACKER_BAD_PACKET' });
  assert.throws(() => decodeUrlDataOptions(Uint8Array.from([2])), { code: 'TRACKER_BAD_PACKET' });
  const tooMuch = new Uint8Array(5 * 257);
  for (let i = 0; i < 5; i++) tooMuch.set([2, 255], i * 257);
  assert.throws(() => decodeUrlDataOptions(tooMuch), { code: 'TRACKER_BAD_PACKET' });
});

test('URL data of a udp:// announce URL is its path and query', () => {
  assert.deepEqual(urlDataOf('udp://t.example:6969/announce?passkey=abc#x'), utf8('/announce?passkey=abc'));
  assert.deepEqual(urlDataOf('udp://t.example:6969'), utf8(''));
});

test('IPv4 announce response: interval, leechers, seeders, then 6-byte peers', () => {
  const fixture = hex('00000001 cafebabe 00000708 00000005 00000003 7f000001 1ae1');
  const res = decodeUdpResponse(fixture, 4);
  assert.deepEqual(res, {
    action: 'announce',
    transactionId: 0xcafebabe,
    response: {
      intervalSeconds: 1800,
      incomplete: 5,
      complete: 3,
      peers: [{ host: '127.0.0.1', port: 6881 }],
    },
  });
  assert.deepEqual(encodeUdpResponse(res, 4), fixture);
});

test('IPv6 announce response uses 18-byte peers when the request came over IPv6', () => {
  const fixture = hex(`00000001 00000001 0000003c 00000000 00000001 ${'00'.repeat(15)}01 1ae1`);
  const res = decodeUdpResponse(fixture, 6);
  assert.ok(res.action === 'announce');
  assert.deepEqual(res.response.peers, [{ host: '::1', port: 6881 }]);
  assert.deepEqual(encodeUdpResponse(res, 6), fixture);
  // The same bytes read as IPv4 are three 6-byte entries: the family must come from the socket.
  assert.ok(decodeUdpResponse(fixture, 4).action === 'announce');
});

test('scrape request and response round-trip byte by byte', () => {
  const req: UdpRequest = {
    action: 'scrape',
    connectionId: 5n,
    transactionId: 9,
    infoHashes: [INFO_HASH, PEER_ID],
  };
  const bytes = encodeUdpRequest(req);
  assert.equal(
    toHex(bytes),
    `0000000000000005 00000002 00000009 ${toHex(INFO_HASH)}${toHex(PEER_ID)}`.replace(/ /g, ''),
  );
  assert.deepEqual(decodeUdpRequest(bytes), req);
  const fixture = hex('00000002 00000009 00000001 00000002 00000003');
  const res = decodeUdpResponse(fixture);
  assert.deepEqual(res, {
    action: 'scrape',
    transactionId: 9,
    files: [{ complete: 1, downloaded: 2, incomplete: 3 }],
  });
  assert.deepEqual(encodeUdpResponse(res), fixture);
});

test('error packet carries a message', () => {
  const fixture = hex(`00000003 00000007 ${toHex(utf8('denied'))}`);
  assert.deepEqual(decodeUdpResponse(fixture), { action: 'error', transactionId: 7, message: 'denied' });
  assert.deepEqual(encodeUdpResponse({ action: 'error', transactionId: 7, message: 'denied' }), fixture);
});

test('strict length and action checks reject malformed packets', () => {
  const bad = [
    () => decodeUdpRequest(new Uint8Array(15)),
    () => decodeUdpRequest(hex('0000041727101980 00000000 00000001 00')),
    () => decodeUdpRequest(hex('0000000000000000 00000000 00000001')),
    () => decodeUdpRequest(new Uint8Array(97).fill(0).map((_, i) => (i === 11 ? 1 : 0))),
    () => decodeUdpRequest(hex('0000000000000001 00000002 00000001')),
    () => decodeUdpRequest(hex(`0000000000000001 00000007 00000001`)),
    () => decodeUdpResponse(hex('00000000 00000001 01020304')),
    () => decodeUdpResponse(hex('00000001 00000001 0000003c 00000000 00000000 0102')),
    () => decodeUdpResponse(hex('00000002 00000001 00000001')),
    () => decodeUdpResponse(hex('00000009 00000001')),
    () => decodeUdpResponse(new Uint8Array(7)),
  ];
  for (const f of bad) assert.throws(f, { code: 'TRACKER_BAD_PACKET' });
  const wrongEvent = encodeUdpRequest(announce);
  wrongEvent[83] = 9;
  assert.throws(() => decodeUdpRequest(wrongEvent), { code: 'TRACKER_BAD_PACKET' });
  assert.throws(() => decodeUdpResponse(hex('00000001 00000001 ffffffff 00000000 00000000')), {
    code: 'TRACKER_BAD_INTERVAL',
  });
});
