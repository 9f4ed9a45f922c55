import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { type Scheduler, VirtualScheduler } from '../util/clock.js';
import { createInlineHashPool } from './inline-hash-pool.js';
import { memoryStorageFactory } from './memory-storage-factory.js';
import { contentFor, makeLayout, runStorageConformance } from './storage.conformance.js';
import type { StorageFactory } from './storage-factory.js';

const hashPool = createInlineHashPool();
let places = 0;

function conformanceThrough(factory: () => StorageFactory) {
  return () => {
    const f = factory();
    const place = { dir: `/sim/place-${places++}`, key: 'ab'.repeat(20), hashPool };
    return {
      open: (layout: Parameters<StorageFactory['open']>[0], o?: { priorities?: readonly (0 | 4)[] }) =>
        f.open(layout, { ...place, priorities: o?.priorities ?? layout.files.map(() => 4 as const) }),
      cleanup() {},
    };
  };
}

runStorageConformance(
  'memory factory',
  conformanceThrough(() => memoryStorageFactory()),
);
// The same suite through the modelled disk, on real timers (the suite awaits each operation);
// ref'd, unlike the system scheduler's, so a pending operation keeps the test alive.
const realTimers: Scheduler = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
  setInterval(ms, fn) {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
};
runStorageConformance(
  'memory factory with disk latency',
  conformanceThrough(() => memoryStorageFactory({ scheduler: realTimers, disk: { latencyMs: 1 } })),
);

const layout = makeLayout([['f', 64 * 1024]], 32 * 1024);
const place = { dir: '/sim/a', key: '01'.repeat(20), hashPool, priorities: [4 as const] };

test('operations complete after the disk latency, on the virtual clock', async () => {
  const s = new VirtualScheduler();
  const f = memoryStorageFactory({ scheduler: s, disk: { latencyMs: 5 } });
  const st = await f.open(layout, place);
  let doneAt = -1;
  st.writeBlock(0, 0, new Uint8Array(16384).fill(1)).then(() => {
    doneAt = s.now();
  });
  await Promise.resolve();
  s.advance(4);
  await new Promise(setImmediate);
  assert.equal(doneAt, -1);
  s.advance(1);
  await new Promise(setImmediate);
  assert.equal(doneAt, 5);
  assert.deepEqual(f.stats(), { reads: 0, writes: 1, readBytes: 0, writtenBytes: 16384 });
});

test('a write lands when it completes: a read issued earlier sees the old bytes, and variable latency reorders writes', async () => {
  const s = new VirtualScheduler();
  const latencies = [30, 10];
  const f = memoryStorageFactory({
    scheduler: s,
    disk: { latencyMs: (op) => (op.operation === 'write' ? latencies.shift()! : 1) },
  });
  const st = await f.open(layout, place);
  const slow = st.writeBlock(0, 0, new Uint8Array(16384).fill(7));
  const fast = st.writeBlock(0, 16384, new Uint8Array(16384).fill(8));
  const order: string[] = [];
  slow.then(() => order.push('slow'));
  fast.then(() => order.push('fast'));
  s.advance(15);
  await new Promise(setImmediate);
  const early = st.readPiece(0);
  s.advance(1);
  await new Promise(setImmediate);
  const piece = await early;
  assert.equal(piece[0], 0, 'the first write has not landed yet');
  assert.equal(piece[16384], 8);
  s.advance(100);
  await new Promise(setImmediate);
  assert.deepEqual(order, ['fast', 'slow']);
});

test('a throughput cap queues operations FIFO', async () => {
  const s = new VirtualScheduler();
  const f = memoryStorageFactory({ scheduler: s, disk: { throughputBps: 16384 * 10 } });
  const st = await f.open(layout, place);
  const done: number[] = [];
  for (let i = 0; i < 4; i++) st.writeBlock(0, 0, new Uint8Array(16384)).then(() => done.push(s.now()));
  await new Promise(setImmediate);
  while (s.step()) await new Promise(setImmediate);
  assert.deepEqual(
    done.map((t) => Math.round(t)),
    [100, 200, 300, 400],
  );
});

test('reopening (dir, key) finds the data and the resume record of an earlier instance', async () => {
  const f = memoryStorageFactory();
  const content = contentFor(layout, 4);
  await f.preload(layout, place, content);
  const first = await f.open(layout, place);
  assert.deepEqual(await first.readPiece(1), content.subarray(32 * 1024));
  await first.writeBlock(0, 0, new Uint8Array(16).fill(9));
  await f.saveResume(place, new Uint8Array([1, 2, 3]));
  await first.close();
  const again = await f.open(layout, place);
  assert.equal((await again.readBlock(0, 0, 16))[3], 9);
  assert.deepEqual(await f.loadResume(place), { ok: true, bytes: new Uint8Array([1, 2, 3]) });
  const elsewhere = { ...place, dir: '/sim/b' };
  assert.equal((await f.loadResume(elsewhere)).ok, false);
  assert.deepEqual(await (await f.open(layout, elsewhere)).readBlock(0, 0, 4), new Uint8Array(4));
  const sha1 = new Uint8Array(
    createHash('sha1')
      .update(content.subarray(32 * 1024))
      .digest(),
  );
  assert.equal(await again.verifyPiece(1, sha1), true);
  f.forget(place);
  assert.equal(f.resumeRecord(place), undefined);
});

test('a disk model without a scheduler is refused', () => {
  assert.throws(() => memoryStorageFactory({ disk: { latencyMs: 1 } }), RangeError);
});
