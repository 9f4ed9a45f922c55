import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '../bencode/index.js';
import { formatIp, parseIp } from '../util/ip.js';
import { WireError } from './errors.js';
import { decodeExtendedHandshake, encodeExtendedHandshake, LOCAL_EXTENSION_IDS } from './extension.js';
import { MAX_METADATA_BYTES, MAX_PEX_PEERS_ACCEPTED } from './limits.js';
import { decodeMetadataMessage, encodeMetadataMessage, type MetadataMessage } from './ut-metadata.js';
import { decodePexMessage, encodePexMessage, PexFlags } from './ut-pex.js';

const isCode = (code: string) => (e: unknown) => e instanceof WireError && e.code === code;

test('an extended handshake round trips every field', () => {
  const h = {
    m: LOCAL_EXTENSION_IDS,
    metadataSize: 31_337,
    listenPort: 6881,
    client: 'peerdrop 0.1.0',
    yourIp: '192.0.2.7',
    reqq: 500,
    ipv4: '198.51.100.1',
    ipv6: '2001:db8::1',
    isUploadOnly: true,
  };
  assert.deepEqual(decodeExtendedHandshake(encodeExtendedHandshake(h)), h);
});

test('disabled and out-of-range extension ids are left out of m', () => {
  const h = decodeExtendedHandshake(encode({ m: { ut_pex: 0, ut_metadata: 3, bogus: 300, neg: -1 } }));
  assert.deepEqual([...h.m], [['ut_metadata', 3]]);
});

test('metadata_size beyond the BEP 9 limit is ignored rather than trusted', () => {
  const h = decodeExtendedHandshake(encode({ m: {}, metadata_size: MAX_METADATA_BYTES + 1 }));
  assert.equal(h.metadataSize, undefined);
});

test('a non-dictionary extended handshake is WIRE_BAD_EXTENDED', () => {
  assert.throws(() => decodeExtendedHandshake(encode([1, 2])), isCode('WIRE_BAD_EXTENDED'));
  assert.throws(() => decodeExtendedHandshake(Uint8Array.of(0x64)), isCode('WIRE_BAD_EXTENDED'));
});

test('ut_metadata request, reject and data round trip', () => {
  const messages: MetadataMessage[] = [
    { type: 'request', piece: 2 },
    { type: 'reject', piece: 0 },
    { type: 'data', piece: 1, totalSize: 16384 + 10, data: new Uint8Array(10).fill(1) },
  ];
  for (const msg of messages) {
    const got = decodeMetadataMessage(encodeMetadataMessage(msg));
    assert.deepEqual(got, msg);
  }
});

test('ut_metadata data with the wrong length, a piece out of range or a huge total size is rejected', () => {
  const data = (piece: number, totalSize: number, n: number) =>
    encodeMetadataMessage({ type: 'data', piece, totalSize, data: new Uint8Array(n) });
  assert.throws(() => decodeMetadataMessage(data(0, 20000, 100)), isCode('WIRE_BAD_METADATA'));
  assert.throws(() => decodeMetadataMessage(data(2, 20000, 100)), isCode('WIRE_BAD_METADATA'));
  assert.throws(
    () => decodeMetadataMessage(data(0, MAX_METADATA_BYTES + 1, 16384)),
    isCode('WIRE_BAD_METADATA'),
  );
  assert.throws(() => decodeMetadataMessage(encode({ msg_type: 9, piece: 0 })), isCode('WIRE_BAD_METADATA'));
});

test('ut_pex round trips IPv4 and IPv6 peers with flags', () => {
  const msg = {
    added: [
      { host: '10.0.0.1', port: 6881, flags: PexFlags.IsSeed },
      { host: '2001:db8::2', port: 51413, flags: PexFlags.SupportsUtp | PexFlags.IsReachable },
    ],
    dropped: [
      { host: '10.0.0.9', port: 1 },
      { host: '::1', port: 2 },
    ],
  };
  assert.deepEqual(decodePexMessage(encodePexMessage(msg)), msg);
});

test('ut_pex keeps at most the accepted number of peers and at most 50 when encoding', () => {
  const many = Array.from({ length: 300 }, (_, i) => ({
    host: `10.0.${i >> 8}.${i & 255}`,
    port: 1000 + i,
    flags: 0,
  }));
  const compact = new Uint8Array(many.length * 6);
  for (let i = 0; i < many.length; i++) {
    compact.set([10, 0, i >> 8, i & 255, (1000 + i) >> 8, (1000 + i) & 255], i * 6);
  }
  assert.equal(decodePexMessage(encode({ added: compact })).added.length, MAX_PEX_PEERS_ACCEPTED);
  assert.equal(decodePexMessage(encodePexMessage({ added: many, dropped: [] })).added.length, 50);
});

test('IPv6 addresses format canonically and parse back', () => {
  for (const text of ['2001:db8::1', '::1', '::', 'fe80::1:0:0:2', '1:2:3:4:5:6:7:8', '::ffff:1.2.3.4']) {
    const bytes = parseIp(text);
    assert.ok(bytes, text);
    assert.equal(formatIp(parseIp(formatIp(bytes)!)!), formatIp(bytes));
  }
  assert.equal(formatIp(parseIp('2001:0db8:0:0:0:0:0:1')!), '2001:db8::1');
  assert.equal(parseIp('1::2::3'), null);
  assert.equal(parseIp('256.1.1.1'), null);
});
