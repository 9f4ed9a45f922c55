import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../src/util/random.js';
import { simTorrent } from './fixture.js';
import { type SimPeer, SimSwarm } from './sim-swarm.js';

/**
 * The stale read-back that banned honest seeders under load (commit c9b9474): a piece that
 * did not fit the in-memory assembly budget is "spilled" (its blocks go to disk as they
 * arrive) and read back for hashing when its last block lands. If the disk completes writes
 * out of order, the read-back must wait for every write of the piece, or it hashes stale
 * bytes, the piece "fails", and smart-ban convicts the honest peer whose block looks different.
 * Here: a fast network, and slow disk writes whose latency varies per write (so they land out
 * of order), with more data in flight than the 64 MiB assembly budget holds.
 */
test('slow, variable-latency disk writes under a fast network never fail a piece or ban an honest peer', async () => {
  const torrent = simTorrent({ pieces: 160, pieceLengthBytes: 1024 * 1024, seed: 19 });
  const sim = new SimSwarm({ torrent, seed: 19, latencyMs: 5 });
  const jitter = seededRandom(19);
  const disk = {
    // Writes take 20..400 ms each and overtake each other; reads are quick.
    latencyMs: (op: { operation: string }) => (op.operation === 'write' ? 20 + jitter.next() * 380 : 2),
    throughputBps: 60_000_000,
  };
  const seeder = await sim.addPeer({ role: 'seeder' });
  const leechers: SimPeer[] = [];
  for (let i = 0; i < 2; i++) leechers.push(await sim.addPeer({ role: 'leecher', disk }));
  try {
    await sim.until(sim.start(seeder));
    await sim.until(Promise.all(leechers.map((l) => sim.start(l))));
    const done = await sim.drive(() => leechers.every((l) => l.completedAtMs !== null), 300_000);
    assert.deepEqual(sim.bannedAddresses(), [], 'no honest peer was banned');
    assert.deepEqual(
      leechers.map((l) => l.hashFailures),
      leechers.map(() => 0),
      'no piece failed its hash check',
    );
    assert.ok(done, `completed: ${leechers.map((l) => l.completedAtMs)}`);
    // The budget really was exceeded: blocks were written one by one (spilled pieces) and read
    // back, not only written as whole pieces after their hash check.
    for (const l of leechers) {
      const { writes, reads } = l.memory.stats();
      assert.ok(
        writes > 2 * torrent.metainfo.pieceCount && reads > 0,
        `${l.name}: ${writes} writes, nothing spilled`,
      );
    }
  } finally {
    await sim.close();
  }
});
