import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, encode } from '../../bencode/index.js';
import { TrackerError } from '../errors.js';
import { decodeCompactPeers, decodeDictPeers, encodeCompactPeers, formatIpv6, parseIpv6 } from './compact.js';

test('encodes and decodes compact IPv4 peers byte by byte (BEP 23)', () => {
  const bytes = encodeCompactPeers(
    [
      { host: '10.0.0.1', port: 6881 },
      { host: '127.0.0.1', port: 1 },
    ],
    4,
  );
  assert.deepEqual([...bytes], [10, 0, 0, 1, 0x1a, 0xe1, 127, 0, 0, 1, 0, 1]);
  assert.deepEqual(decodeCompactPeers(bytes, 4), [
    { host: '10.0.0.1', port: 6881 },
    { host: '127.0.0.1', port: 1 },
  ]);
});

test('encodes and decodes compact IPv6 peers in 18-byte entries (BEP 7)', () => {
  const bytes = encodeCompactPeers([{ host: '2001:db8::1', port: 443 }], 6);
  assert.equal(bytes.length, 18);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x20, 0x01, 0x0d, 0xb8]);
  assert.deepEqual([...bytes.subarray(15)], [1, 0x01, 0xbb]);
  assert.deepEqual(decodeCompactPeers(bytes, 6), [{ host: '2001:db8::1', port: 443 }]);
});

test('skips peers of the other family when encoding', () => {
  const peers = [
    { host: '::1', port: 1 },
    { host: '1.2.3.4', port: 2 },
  ];
  assert.equal(encodeCompactPeers(peers, 4).length, 6);
  assert.equal(encodeCompactPeers(peers, 6).length, 18);
});

test('rejects a compact peer string whose length is not a multiple of 6', () => {
  assert.throws(
    () => decodeCompactPeers(new Uint8Array(7), 4),
    (e) => e instanceof TrackerError && e.code === 'TRACKER_BAD_PEERS',
  );
  assert.throws(() => decodeCompactPeers(new Uint8Array(20), 6), { code: 'TRACKER_BAD_PEERS' });
});

test('drops port-0 peers and stops at maxPeers', () => {
  const bytes = Uint8Array.from([1, 1, 1, 1, 0, 0, 2, 2, 2, 2, 0, 5, 3, 3, 3, 3, 0, 6, 4, 4, 4, 4, 0, 7]);
  assert.deepEqual(decodeCompactPeers(bytes, 4, 2), [{ host: '2.2.2.2', port: 5 }]);
  assert.equal(decodeCompactPeers(bytes, 4).length, 3);
});

test('decodes dictionary-model peers and drops unusable entries', () => {
  const list = decode(
    encode([
      { ip: '192.168.1.2', port: 51413, 'peer id': new Uint8Array(20).fill(0x41) },
      { ip: 'tracker.example.org', port: 80 },
      { ip: '::1', port: 2 },
      { ip: '1.2.3.4', port: 0 },
      { ip: 'bad host!', port: 5 },
      { ip: '1.2.3.4', port: 70000 },
      { port: 5 },
      'not a dict',
    ]),
  );
  const peers = decodeDictPeers(list);
  assert.deepEqual(
    peers.map((p) => [p.host, p.port, p.peerId?.length]),
    [
      ['192.168.1.2', 51413, 20],
      ['tracker.example.org', 80, undefined],
      ['::1', 2, undefined],
    ],
  );
});

test('formats IPv6 in RFC 5952 form and parses what it formats', () => {
  for (const [input, out] of [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::', '::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['[fe80::1]', 'fe80::1'],
  ] as const) {
    const b = parseIpv6(input);
    assert.ok(b, input);
    assert.equal(formatIpv6(b), out);
    assert.deepEqual(parseIpv6(out), b);
  }
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%lo', '12345::', ':::']) {
    assert.equal(parseIpv6(bad), null, bad);
  }
});
