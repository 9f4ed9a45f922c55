import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toBase32, toHex } from '../util/bytes.js';
import { MetainfoError } from './errors.js';
import { formatMagnet, formatSelectOnly, parseMagnet, parseSelectOnly } from './magnet.js';

const HEX = '0123456789abcdef0123456789abcdef01234567';
const V2 = 'a'.repeat(64);

function rejects(uri: string, code: string): void {
  assert.throws(
    () => parseMagnet(uri),
    (err: unknown) => err instanceof MetainfoError && err.code === code,
    `${uri.slice(0, 60)} → ${code}`,
  );
}

describe('parseMagnet', () => {
  test('reads a BEP 9 link with hex hash, name, trackers, peers, web seed and length', () => {
    const m = parseMagnet(
      `magnet:?xt=urn:btih:${HEX.toUpperCase()}&dn=My+File%20%C3%A9&tr=udp%3A%2F%2Ft.example%3A80&tr=http://t2/a` +
        '&x.pe=10.0.0.1:6881&x.pe=[::1]:6881&ws=http%3A%2F%2Fws.example%2Ff&xl=12345',
    );
    assert.equal(toHex(m.infoHash!), HEX);
    assert.equal(m.infoHashV2, null);
    assert.equal(m.name, 'My File é');
    assert.deepEqual(m.trackers, ['udp://t.example:80', 'http://t2/a']);
    assert.deepEqual(m.peers, ['10.0.0.1:6881', '[::1]:6881']);
    assert.deepEqual(m.webSeeds, ['http://ws.example/f']);
    assert.equal(m.exactLengthBytes, 12345);
  });

  test('reads a base32 btih', () => {
    const bytes = Uint8Array.from({ length: 20 }, (_, i) => i * 13);
    assert.deepEqual(parseMagnet(`magnet:?xt=urn:btih:${toBase32(bytes)}`).infoHash, bytes);
    assert.deepEqual(parseMagnet(`magnet:?xt=urn:btih:${toBase32(bytes).toLowerCase()}`).infoHash, bytes);
  });

  test('reads a BEP 52 btmh and a hybrid link with both hashes', () => {
    const v2 = parseMagnet(`magnet:?xt=urn:btmh:1220${V2}`);
    assert.equal(v2.infoHash, null);
    assert.equal(toHex(v2.infoHashV2!), V2);
    const hybrid = parseMagnet(`magnet:?xt=urn:btih:${HEX}&xt=urn:btmh:1220${V2}&dn=x`);
    assert.equal(toHex(hybrid.infoHash!), HEX);
    assert.equal(toHex(hybrid.infoHashV2!), V2);
  });

  test('accepts numbered xt.1 / tr.1 parameters and ignores unknown ones', () => {
    const m = parseMagnet(`magnet:?xt.1=urn:btih:${HEX}&tr.1=http://a&kt=x+y&xt.2=urn:sha1:ABC`);
    assert.equal(toHex(m.infoHash!), HEX);
    assert.deepEqual(m.trackers, ['http://a']);
  });

  test('expands BEP 53 so= ranges', () => {
    assert.deepEqual(parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=0,2,4-6`).selectOnly, [0, 2, 4, 5, 6]);
  });

  test('a repeated identical xt is fine', () => {
    assert.equal(
      toHex(parseMagnet(`magnet:?xt=urn:btih:${HEX}&xt=urn:btih:${HEX.toUpperCase()}`).infoHash!),
      HEX,
    );
  });

  test('refuses malformed links with a MAGNET_* code', () => {
    rejects('http://example.com', 'MAGNET_NOT_A_MAGNET');
    rejects('magnet:?dn=x', 'MAGNET_NO_XT');
    rejects('magnet:?xt=urn:btih:abc', 'MAGNET_BAD_HASH_LENGTH');
    rejects(`magnet:?xt=urn:btih:${'z'.repeat(40)}`, 'MAGNET_BAD_HEX');
    rejects(`magnet:?xt=urn:btih:${'1'.repeat(32)}`, 'MAGNET_BAD_BASE32');
    rejects(`magnet:?xt=urn:btmh:1114${V2}`, 'MAGNET_BAD_XT');
    rejects(`magnet:?xt=urn:btmh:1220${V2}00`, 'MAGNET_BAD_HASH_LENGTH');
    rejects(`magnet:?xt=urn:btih:${HEX}&xt=urn:btih:${'f'.repeat(40)}`, 'MAGNET_CONFLICTING_XT');
    rejects(`magnet:?xt=urn:btih:${HEX}&dn=%E0%A4%A`, 'MAGNET_BAD_ENCODING');
    rejects(`magnet:?xt=urn:btih:${HEX}&xl=-1`, 'MAGNET_BAD_LENGTH');
    rejects(`magnet:?xt=urn:btih:${HEX}&so=5-2`, 'MAGNET_BAD_SELECT');
    rejects(`magnet:?xt=urn:btih:${HEX}&so=0-999999`, 'MAGNET_BAD_SELECT');
    rejects(`magnet:?xt=urn:btih:${HEX}&so=a`, 'MAGNET_BAD_SELECT');
    rejects(`magnet:?xt=urn:btih:${HEX}&dn=${'a'.repeat(70_000)}`, 'MAGNET_TOO_LONG');
    rejects(`magnet:?xt=urn:btih:${HEX}${'&a=b'.repeat(1100)}`, 'MAGNET_TOO_MANY_PARAMS');
  });
});

describe('formatMagnet', () => {
  test('writes hashes, name, trackers and web seeds that parse back', () => {
    const link = {
      infoHash: Uint8Array.from({ length: 20 }, (_, i) => i),
      infoHashV2: Uint8Array.from({ length: 32 }, (_, i) => 255 - i),
      name: 'a & b + c/ü',
      trackers: ['udp://t:1/announce?x=1&y=2'],
      webSeeds: ['http://w/'],
      peers: ['[::1]:1'],
      exactLengthBytes: 7,
      selectOnly: [1, 2, 3, 9],
    };
    const uri = formatMagnet(link);
    assert.match(uri, /^magnet:\?xt=urn:btih:000102[0-9a-f]{34}&xt=urn:btmh:1220ff/);
    assert.match(uri, /so=1-3,9$/);
    assert.deepEqual(parseMagnet(uri), link);
  });

  test('formatSelectOnly and parseSelectOnly are inverse', () => {
    assert.equal(formatSelectOnly([6, 0, 4, 5, 2]), '0,2,4-6');
    assert.deepEqual(parseSelectOnly('0,2,4-6'), [0, 2, 4, 5, 6]);
  });
});
