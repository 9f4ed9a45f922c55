import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corruptingStorage } from './corrupt-storage.js';
import { simTorrent } from './fixture.js';
import { type SimPeer, SimSwarm } from './sim-swarm.js';

test('a peer that serves corrupt blocks is banned on evidence; honest peers are kept and everyone completes', async () => {
  const sim = new SimSwarm({
    torrent: simTorrent({ pieces: 24, pieceLengthBytes: 128 * 1024, seed: 5 }),
    seed: 5,
    latencyMs: 20,
  });
  const seeder = await sim.addPeer({ role: 'seeder', uploadBps: 300_000 });
  // Faster than the honest seeder, so leechers ask it for plenty; every third piece it serves is bad.
  const liar = await sim.addPeer({
    role: 'seeder',
    uploadBps: 1_000_000,
    wrapStorage: (inner) => corruptingStorage(inner, (piece) => piece % 3 === 0),
  });
  const leechers: SimPeer[] = [];
  for (let i = 0; i < 6; i++) leechers.push(await sim.addPeer({ role: 'leecher', uploadBps: 200_000 }));
  try {
    await sim.until(sim.start(seeder));
    await sim.until(sim.start(liar));
    await sim.until(Promise.all(leechers.map((l) => sim.start(l))));
    const done = await sim.drive(() => leechers.every((l) => l.completedAtMs !== null), 600_000);
    assert.ok(done, `completed: ${leechers.map((l) => l.completedAtMs).join(', ')}`);
    const bans = sim.peers.flatMap((p) => p.bans.map((b) => ({ by: p.name, address: b.address })));
    const honest = new Set([seeder, ...leechers].map((p) => p.address));
    const wrongful = bans.filter(
      (b) => honest.has(b.address) || [...honest].some((h) => b.address.startsWith(`${h.split(':')[0]}:`)),
    );
    assert.deepEqual(wrongful, [], 'no honest peer was banned');
    const banners = new Set(bans.filter((b) => b.address.startsWith(`${liar.ip}:`)).map((b) => b.by));
    assert.ok(banners.size >= 1, 'the liar was banned');
    // Whoever saw a bad piece from the liar banned it.
    for (const l of leechers)
      if (l.hashFailures > 0) assert.ok(banners.has(l.name), `${l.name} failed pieces but kept the liar`);
  } finally {
    await sim.close();
  }
});
