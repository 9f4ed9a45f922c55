import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../util/clock.js';
import { RateMeter } from './rate-meter.js';

test('a steady 1 MB/s flow measures 1 MB/s', () => {
  const clock = new ManualClock(0);
  const m = new RateMeter(clock);
  for (let i = 0; i < 200; i++) {
    m.add(50_000);
    clock.advance(50);
  }
  assert.ok(Math.abs(m.rate() - 1_000_000) < 60_000, `rate ${m.rate()}`);
  assert.equal(m.totalBytes, 10_000_000);
});

test('the rate decays to zero after the window passes without data', () => {
  const clock = new ManualClock(1000);
  const m = new RateMeter(clock);
  m.add(1_000_000);
  clock.advance(2000);
  assert.ok(m.rate() > 0);
  clock.advance(10_000);
  assert.equal(m.rate(), 0);
});

test('a young meter divides by its age, not the whole window', () => {
  const clock = new ManualClock(0);
  const m = new RateMeter(clock, { windowMs: 10_000 });
  clock.advance(1000);
  m.add(100_000);
  assert.equal(Math.round(m.rate()), 100_000);
});
