import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../util/clock.js';
import { seededRandom } from '../../util/random.js';
import { IpRateLimiter } from './rate-limit.js';
import { ConnectionIds } from './udp-connection-ids.js';

function setup(cacheSize?: number) {
  const clock = new ManualClock(5_000_000);
  const rnd = seededRandom(3);
  const ids = new ConnectionIds({
    clock,
    windowMs: 60_000,
    randomBytes: (n) => rnd.bytes(n),
    ...(cacheSize === undefined ? {} : { cacheSize }),
  });
  return { clock, ids };
}

test('a connection id is accepted from the address it was issued to, for one to two minutes', () => {
  const { clock, ids } = setup();
  const id = ids.issue('127.0.0.1', 5000);
  assert.equal(ids.verify(id, '127.0.0.1', 5000), true);
  assert.equal(ids.verify(id, '127.0.0.1', 5001), false, 'another port');
  assert.equal(ids.verify(id, '127.0.0.2', 5000), false, 'another address');
  clock.advance(60_000);
  assert.equal(ids.verify(id, '127.0.0.1', 5000), true, 'still valid in the next window');
  clock.advance(60_000);
  assert.equal(ids.verify(id, '127.0.0.1', 5000), false, 'expired after two windows');
});

test('connection ids are never constant: they differ per address and per window', () => {
  const { clock, ids } = setup();
  const a = ids.issue('10.0.0.1', 1);
  const b = ids.issue('10.0.0.2', 1);
  assert.notEqual(a, b);
  assert.notEqual(a, 0x41727101980n);
  clock.advance(60_000);
  assert.notEqual(ids.issue('10.0.0.1', 1), a);
});

test('a valid id is accepted without the cache (HMAC fallback), a guessed one is not', () => {
  const { clock, ids } = setup(1);
  const id = ids.issue('10.0.0.1', 7);
  ids.issue('10.0.0.2', 7); // evicts the first from a 1-entry cache
  assert.equal(ids.verify(id, '10.0.0.1', 7), true);
  clock.advance(60_000);
  ids.issue('10.0.0.3', 7);
  assert.equal(ids.verify(id, '10.0.0.1', 7), true, 'previous window via the previous secret');
  const rnd = seededRandom(11);
  for (let i = 0; i < 1000; i++) {
    const guess = new DataView(rnd.bytes(8).buffer).getBigUint64(0);
    assert.equal(ids.verify(guess, '10.0.0.9', 7), false);
  }
});

test('after a long idle gap no old id survives (both secrets replaced)', () => {
  const { clock, ids } = setup(1);
  const id = ids.issue('10.0.0.1', 7);
  ids.issue('10.0.0.2', 7);
  clock.advance(10 * 60_000);
  assert.equal(ids.verify(id, '10.0.0.1', 7), false);
});

test('the per-IP rate limiter allows a burst, then the sustained rate, per address', () => {
  const clock = new ManualClock(0);
  const limiter = new IpRateLimiter({ clock, ratePerSecond: 10, burst: 5 });
  let allowed = 0;
  for (let i = 0; i < 20; i++) if (limiter.allow('1.1.1.1')) allowed++;
  assert.equal(allowed, 5);
  assert.equal(limiter.allow('2.2.2.2'), true, 'another IP has its own bucket');
  clock.advance(300);
  allowed = 0;
  for (let i = 0; i < 20; i++) if (limiter.allow('1.1.1.1')) allowed++;
  assert.equal(allowed, 3);
});

test('the rate limiter table is bounded and evicts the least recently seen IP', () => {
  const clock = new ManualClock(0);
  const limiter = new IpRateLimiter({ clock, ratePerSecond: 1, burst: 1, maxEntries: 3 });
  for (let i = 0; i < 1000; i++) limiter.allow(`10.0.${i >> 8}.${i & 255}`);
  assert.equal(limiter.size, 3);
  const off = new IpRateLimiter({ clock, ratePerSecond: 0 });
  for (let i = 0; i < 100; i++) assert.equal(off.allow('1.1.1.1'), true);
  assert.equal(off.size, 0);
});
