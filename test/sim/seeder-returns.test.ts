import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simTorrent } from './fixture.js';
import { type SimPeer, SimSwarm } from './sim-swarm.js';

test('a seeder that disappears mid-transfer and returns: leechers stall on the pieces only it had, then complete', async () => {
  const torrent = simTorrent({ pieces: 32, pieceLengthBytes: 256 * 1024, seed: 17 });
  const sim = new SimSwarm({ torrent, seed: 17, latencyMs: 25 });
  const seeder = await sim.addPeer({ role: 'seeder', uploadBps: 400_000 });
  const leechers: SimPeer[] = [];
  for (let i = 0; i < 6; i++) leechers.push(await sim.addPeer({ role: 'leecher', uploadBps: 200_000 }));
  const goneAtMs = 8_000;
  const backAtMs = 40_000;
  let unionWhenGone = 0;
  try {
    await sim.until(sim.start(seeder));
    await sim.until(Promise.all(leechers.map((l) => sim.start(l))));
    sim.at(goneAtMs, () => {
      unionWhenGone = new Set(leechers.flatMap((l) => [...l.pieces])).size;
      void sim.stop(seeder);
    });
    // It comes back on the same disk: its resume record vouches for the data.
    sim.at(backAtMs, () => void sim.start(seeder, { knows: [], isKnownComplete: false }));
    const done = await sim.drive(() => leechers.every((l) => l.completedAtMs !== null), 900_000);
    assert.ok(unionWhenGone < torrent.metainfo.pieceCount, 'some pieces existed only at the seeder');
    assert.ok(done, `completed: ${leechers.map((l) => l.completedAtMs)}`);
    for (const l of leechers)
      assert.ok(l.completedAtMs! > backAtMs, `${l.name} completed while the seeder was away`);
    // Back within a minute of its return (the peer books retry it).
    const last = Math.max(...leechers.map((l) => l.completedAtMs!));
    assert.ok(last < backAtMs + 60_000, `last completion at ${last} ms`);
    assert.deepEqual(sim.bannedAddresses(), []);
  } finally {
    await sim.close();
  }
});
