import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectiveLimits, isInWindow } from './alt-speed.js';
import { moveInQueue, planQueue, type QueueEntry, queueOrder, SlowTracker } from './queue.js';
import { goalReached, uploadRatio } from './seeding-goals.js';
import { DEFAULT_SETTINGS, readSettings } from './settings.js';

const e = (infoHash: string, isComplete = false, isRunning = true, isSlow = false): QueueEntry => ({
  infoHash,
  isComplete,
  isRunning,
  isSlow,
});

describe('download and seed queues', () => {
  it('runs the first N downloads and N seeds in queue order, the rest wait', () => {
    const run = planQueue([e('a'), e('b'), e('s1', true), e('c'), e('s2', true), e('s3', true)], {
      maxDownloads: 2,
      maxSeeds: 1,
    });
    assert.deepEqual([...run].sort(), ['a', 'b', 's1']);
  });

  it('a slow running torrent keeps running but frees its slot for the next one', () => {
    const run = planQueue([e('a', false, true, true), e('b'), e('c', false, false)], {
      maxDownloads: 2,
      maxSeeds: null,
    });
    assert.deepEqual([...run].sort(), ['a', 'b', 'c']);
    const none = planQueue([e('a'), e('b', false, false)], { maxDownloads: 0, maxSeeds: 0 });
    assert.equal(none.size, 0);
  });

  it('counts a torrent as slow only after the slow rate lasted the whole period', () => {
    const slow = new SlowTracker();
    assert.equal(slow.observe('a', 10, 100, 60_000, 0), false);
    assert.equal(slow.observe('a', 10, 100, 60_000, 59_999), false);
    assert.equal(slow.observe('a', 10, 100, 60_000, 60_000), true);
    assert.equal(slow.observe('a', 500, 100, 60_000, 61_000), false, 'a fast moment resets it');
    assert.equal(slow.observe('a', 10, 100, 60_000, 62_000), false);
  });

  it('orders by the stored order, then by id; moving clamps the position', () => {
    const records = [
      { infoHash: 'x', id: 3 },
      { infoHash: 'y', id: 1 },
      { infoHash: 'z', id: 2 },
    ];
    assert.deepEqual(
      queueOrder(records, ['z']).map((r) => r.infoHash),
      ['z', 'y', 'x'],
    );
    assert.deepEqual(moveInQueue(['a', 'b', 'c'], 'c', 0), ['c', 'a', 'b']);
    assert.deepEqual(moveInQueue(['a', 'b', 'c'], 'a', 99), ['b', 'c', 'a']);
  });
});

describe('alternative speed schedule', () => {
  const schedule = { isEnabled: true, fromMinute: 22 * 60, toMinute: 6 * 60, days: [5] };
  it('opens a window across midnight on the day it starts', () => {
    assert.equal(isInWindow(schedule, { weekday: 5, minute: 23 * 60 }), true, 'Friday 23:00');
    assert.equal(isInWindow(schedule, { weekday: 6, minute: 3 * 60 }), true, 'Saturday 03:00');
    assert.equal(isInWindow(schedule, { weekday: 6, minute: 7 * 60 }), false, 'Saturday 07:00');
    assert.equal(isInWindow(schedule, { weekday: 4, minute: 23 * 60 }), false, 'Thursday 23:00');
    assert.equal(isInWindow({ ...schedule, isEnabled: false }, { weekday: 5, minute: 23 * 60 }), false);
  });

  it('uses the alternative limits inside the window or when switched on, else the normal ones', () => {
    const s = { ...DEFAULT_SETTINGS, globalDownloadBps: 1000, altDownloadBps: 10, altSchedule: schedule };
    assert.equal(effectiveLimits(s, { weekday: 5, minute: 23 * 60 }).downloadBps, 10);
    assert.equal(effectiveLimits(s, { weekday: 1, minute: 12 * 60 }).downloadBps, 1000);
    assert.equal(effectiveLimits(s, { weekday: 1, minute: 12 * 60 }).uploadBps, Number.POSITIVE_INFINITY);
    assert.equal(effectiveLimits({ ...s, isAltSpeedOn: true }, { weekday: 1, minute: 0 }).isAlt, true);
  });
});

describe('seeding goals', () => {
  const none = { ratio: null, seedSeconds: null };
  it('counts the ratio against the size when nothing was downloaded', () => {
    assert.equal(uploadRatio({ uploadedBytes: 200, downloadedBytes: 0, wantedBytes: 100, seededMs: 0 }), 2);
    assert.equal(
      uploadRatio({ uploadedBytes: 200, downloadedBytes: 400, wantedBytes: 100, seededMs: 0 }),
      0.5,
    );
  });
  it('the torrent goal wins over the daemon-wide one; time goals in seconds', () => {
    const input = { uploadedBytes: 150, downloadedBytes: 100, wantedBytes: 100, seededMs: 10_000 };
    assert.equal(goalReached({ ratio: 2, seedSeconds: null }, { ratio: 1, seedSeconds: null }, input), null);
    assert.equal(goalReached(none, { ratio: 1, seedSeconds: null }, input)?.kind, 'ratio');
    assert.equal(goalReached({ ratio: null, seedSeconds: 10 }, none, input)?.kind, 'time');
    assert.equal(goalReached(none, none, input), null);
  });
});

describe('settings', () => {
  it('reads stored values with defaults and ignores values the schema refuses', () => {
    const s = readSettings({
      maxActiveDownloads: 2,
      globalDownloadBps: -5,
      seedGoalAction: 'explode',
      other: 1,
    });
    assert.equal(s.maxActiveDownloads, 2);
    assert.equal(s.globalDownloadBps, null);
    assert.equal(s.seedGoalAction, 'pause');
  });
});
