import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HashPool } from '../storage/hash-pool.js';
import { VirtualScheduler } from '../util/clock.js';
import { IdleHashPool } from './idle-hash-pool.js';

/** A pool whose digests finish when the test says; counts how many were made and closed. */
function fakePools() {
  const made: { closed: boolean }[] = [];
  const pending: (() => void)[] = [];
  const create = (): HashPool => {
    const state = { closed: false };
    made.push(state);
    return {
      threads: 2,
      digest: () => new Promise((resolve) => pending.push(() => resolve(new Uint8Array([1])))),
      hashPieces: async () => [],
      hashPiecesIter: async function* () {},
      warmUp: () => {},
      close: async () => {
        state.closed = true;
      },
    };
  };
  return { made, pending, create };
}

describe('idle hash pool', () => {
  it('starts workers on the first job and stops them after the idle time, never while busy', async () => {
    const clock = new VirtualScheduler();
    const fake = fakePools();
    const pool = new IdleHashPool(fake.create, clock, 1000);
    assert.equal(fake.made.length, 0, 'nothing started before a job');
    const job = pool.digest('sha1', new Uint8Array(4));
    assert.equal(fake.made.length, 1);
    clock.advance(5000);
    assert.equal(fake.made[0]!.closed, false, 'a job in flight keeps the workers');
    fake.pending.shift()!();
    assert.deepEqual(await job, new Uint8Array([1]));
    clock.advance(999);
    assert.equal(fake.made[0]!.closed, false);
    clock.advance(1);
    assert.equal(fake.made[0]!.closed, true, 'stopped after the idle time');
    assert.equal(pool.isRunning, false);
    const again = pool.digest('sha1', new Uint8Array(4));
    assert.equal(fake.made.length, 2, 'a new job starts them again');
    fake.pending.shift()!();
    await again;
    await pool.close();
    assert.equal(fake.made[1]!.closed, true);
    await assert.rejects(pool.digest('sha1', new Uint8Array(1)), { code: 'STORAGE_CLOSED' });
  });
});
