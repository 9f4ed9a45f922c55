import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../util/clock.js';
import { IpRateLimiter } from './rate-limit.js';

test('an address gets its burst, then is refused until tokens refill', () => {
  const clock = new ManualClock();
  const rl = new IpRateLimiter(clock, { requestsPerSecond: 2, burst: 3, maxClients: 10 });
  assert.deepEqual(
    [1, 2, 3, 4].map(() => rl.allow('1.2.3.4')),
    [true, true, true, false],
  );
  assert.equal(rl.allow('5.6.7.8'), true);
  clock.advance(500);
  assert.equal(rl.allow('1.2.3.4'), true);
  assert.equal(rl.allow('1.2.3.4'), false);
});

test('the table of addresses never grows past its cap', () => {
  const rl = new IpRateLimiter(new ManualClock(), { requestsPerSecond: 1, burst: 1, maxClients: 100 });
  for (let i = 0; i < 1000; i++) rl.allow(`10.0.${i >> 8}.${i & 255}`);
  assert.equal(rl.size, 100);
});
