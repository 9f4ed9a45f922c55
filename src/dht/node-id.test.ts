import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromHex, toHex, utf8 } from '../util/bytes.js';
import { seededRandom } from '../util/random.js';
import { commonPrefixBits, compliantId, crc32c, isCompliantId, randomIdWithPrefix } from './node-id.js';

test('crc32c matches the Castagnoli check value', () => {
  assert.equal(crc32c(utf8('123456789')), 0xe3069283);
});

// BEP 42 test vectors: IP, rand, and the bits of the id that the IP fixes.
const VECTORS: [string, number, string][] = [
  ['124.31.75.21', 1, '5fbfbf'],
  ['21.75.31.124', 86, '5a3ce9'],
  ['65.23.51.170', 22, 'a5d432'],
  ['84.124.73.14', 65, '1b0321'],
  ['43.213.53.83', 90, 'e56f6c'],
];

test('BEP 42 test vectors: the id prefix and last byte derived from the IP', () => {
  const rng = seededRandom(42);
  for (const [ip, rand, prefix] of VECTORS) {
    const id = compliantId(ip, rng.bytes, rand);
    const want = fromHex(prefix)!;
    assert.equal(id[0], want[0], ip);
    assert.equal(id[1], want[1], ip);
    assert.equal(id[2]! & 0xf8, want[2]! & 0xf8, ip);
    assert.equal(id[19], rand);
    assert.ok(isCompliantId(id, ip));
  }
});

test('BEP 42 example ids from the BEP are compliant, and a changed prefix is not', () => {
  const id = fromHex('5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401')!;
  assert.ok(isCompliantId(id, '124.31.75.21'));
  assert.ok(!isCompliantId(id, '124.31.75.22') || !isCompliantId(id, '21.75.31.124'));
  const bad = id.slice();
  bad[0]! ^= 1;
  assert.ok(!isCompliantId(bad, '124.31.75.21'));
  assert.ok(isCompliantId(bad, '192.168.1.5'), 'local addresses are exempt');
});

test('IPv6 compliant ids verify', () => {
  const rng = seededRandom(7);
  const id = compliantId('2001:db8::1', rng.bytes);
  assert.ok(isCompliantId(id, '2001:db8::1'));
  assert.ok(!isCompliantId(id, '2a00:1450::1'));
});

test('randomIdWithPrefix shares exactly the asked prefix', () => {
  const rng = seededRandom(1);
  const base = rng.bytes(20);
  for (let bits = 0; bits < 160; bits += 7) {
    const id = randomIdWithPrefix(base, bits, rng.bytes);
    assert.equal(commonPrefixBits(base, id), bits, `${bits} ${toHex(id)}`);
  }
});
