import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from './clock.js';
import { TokenBucket, takeAll } from './token-bucket.js';

/** A sender that always wants `chunk` bytes, sleeping when told to wait; bytes sent in `ms`. */
function simulate(buckets: TokenBucket[], clock: ManualClock, chunk: number, ms: number): number {
  let sent = 0;
  const end = clock.now() + ms;
  while (clock.now() < end) {
    const { granted, waitMs } = takeAll(buckets, chunk);
    sent += granted;
    if (granted > 0 && waitMs === 0) continue; // still tokens: send again at once
    clock.advance(Math.max(1, Math.min(waitMs, end - clock.now())));
  }
  return sent;
}

test('over a simulated 10 s the throughput stays within 10 % of the rate', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 20_000, max: 10_000_000 }),
      fc.integer({ min: 512, max: 256 * 1024 }),
      (rate, chunk) => {
        const clock = new ManualClock(0);
        const sent = simulate([new TokenBucket(clock, rate)], clock, chunk, 10_000);
        assert.ok(Math.abs(sent - rate * 10) <= rate, `sent ${sent} at rate ${rate} chunk ${chunk}`);
      },
    ),
    { numRuns: 60 },
  );
});

test('a per-torrent limit below the global one governs, and the global one is not exceeded', () => {
  const clock = new ManualClock(0);
  const global = new TokenBucket(clock, 1_000_000);
  const a = new TokenBucket(clock, 300_000);
  const b = new TokenBucket(clock, Number.POSITIVE_INFINITY);
  let sentA = 0;
  let sentB = 0;
  for (let t = 0; t < 10_000; t++) {
    sentA += takeAll([a, global], 16_384).granted;
    sentB += takeAll([b, global], 16_384).granted;
    clock.advance(1);
  }
  assert.ok(sentA <= 300_000 * 10 * 1.1 && sentA >= 300_000 * 10 * 0.9, `a ${sentA}`);
  assert.ok(
    sentA + sentB <= 1_000_000 * 10 * 1.1 && sentA + sentB >= 1_000_000 * 10 * 0.9,
    `sum ${sentA + sentB}`,
  );
});

test('take reports how long to wait for the rest', () => {
  const clock = new ManualClock(0);
  const tb = new TokenBucket(clock, 1000, 1000);
  assert.deepEqual(tb.take(1500), { granted: 1000, waitMs: 500 });
  clock.advance(500);
  assert.equal(tb.take(500).granted, 500);
  assert.equal(new TokenBucket(clock, Number.POSITIVE_INFINITY).take(1e12).granted, 1e12);
});
