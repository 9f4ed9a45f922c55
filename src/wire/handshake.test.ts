import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../util/random.js';
import { WireError } from './errors.js';
import {
  clientName,
  decodeHandshake,
  decodeReserved,
  encodeHandshake,
  encodeReserved,
  generatePeerId,
  NO_FEATURES,
} from './handshake.js';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

test('a handshake round trips with every feature flag', () => {
  const infoHash = Uint8Array.from({ length: 20 }, (_, i) => i);
  const peerId = ascii('-TR4050-abcdefghijkl');
  for (const features of [NO_FEATURES, { extensions: true, fast: true, dht: true, v2: true }]) {
    const bytes = encodeHandshake({ features, infoHash, peerId });
    assert.equal(bytes.length, 68);
    const h = decodeHandshake(bytes);
    assert.deepEqual(h.features, features);
    assert.deepEqual(h.infoHash, infoHash);
    assert.deepEqual(h.peerId, peerId);
  }
});

test('reserved bits sit where BEP 10, BEP 6, BEP 5 and BEP 52 put them', () => {
  assert.deepEqual(
    Array.from(encodeReserved({ ...NO_FEATURES, extensions: true })),
    [0, 0, 0, 0, 0, 0x10, 0, 0],
  );
  assert.deepEqual(Array.from(encodeReserved({ ...NO_FEATURES, fast: true })), [0, 0, 0, 0, 0, 0, 0, 0x04]);
  assert.deepEqual(Array.from(encodeReserved({ ...NO_FEATURES, dht: true })), [0, 0, 0, 0, 0, 0, 0, 0x01]);
  assert.deepEqual(Array.from(encodeReserved({ ...NO_FEATURES, v2: true })), [0, 0, 0, 0, 0, 0, 0, 0x10]);
  assert.deepEqual(decodeReserved(Uint8Array.of(0, 0, 0, 0, 0, 0x10, 0, 0x05)), {
    extensions: true,
    fast: true,
    dht: true,
    v2: false,
  });
});

test('a handshake with the wrong protocol string is rejected', () => {
  const bytes = encodeHandshake({
    features: NO_FEATURES,
    infoHash: new Uint8Array(20),
    peerId: new Uint8Array(20),
  });
  bytes[5] = 0x21;
  assert.throws(
    () => decodeHandshake(bytes),
    (e: unknown) => e instanceof WireError && e.code === 'WIRE_BAD_HANDSHAKE',
  );
});

test('generated peer ids carry the peerdrop prefix and differ per seed', () => {
  const a = generatePeerId(seededRandom(1));
  const b = generatePeerId(seededRandom(2));
  assert.equal(a.length, 20);
  assert.equal(new TextDecoder().decode(a.subarray(0, 8)), '-PD0100-');
  assert.notDeepEqual(a, b);
  assert.equal(clientName(a), 'peerdrop 0.1.0');
});

test('client names are decoded from common peer ids', () => {
  assert.equal(clientName(ascii('-TR4050-abcdefghijkl')), 'Transmission 4.0.5');
  assert.equal(clientName(ascii('-LT2090-abcdefghijkl')), 'libtorrent 2.0.9');
  assert.equal(clientName(ascii('-qB4620-abcdefghijkl')), 'qBittorrent 4.6.2');
  assert.equal(clientName(ascii('A2-1-37-0-abcdefghij')), 'aria2 1.37.0');
  assert.match(clientName(ascii('-ZZ1234-abcdefghijkl')), /^unknown/);
  assert.match(clientName(new Uint8Array(20)), /^unknown/);
});
