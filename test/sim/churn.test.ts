import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simTorrent } from './fixture.js';
import { type SimPeer, SimSwarm } from './sim-swarm.js';

test('churn: peers leave and join mid-transfer; those who stay, join or come back all complete', async () => {
  const torrent = simTorrent({ pieces: 32, pieceLengthBytes: 128 * 1024, seed: 11 });
  const fileBytes = torrent.metainfo.storageLengthBytes;
  const sim = new SimSwarm({ torrent, seed: 11, latencyMs: 30 });
  const seeder = await sim.addPeer({ role: 'seeder', uploadBps: 400_000 });
  const first: SimPeer[] = [];
  for (let i = 0; i < 8; i++) first.push(await sim.addPeer({ role: 'leecher', uploadBps: 150_000 }));
  const late: SimPeer[] = [];
  for (let i = 0; i < 4; i++) late.push(await sim.addPeer({ role: 'leecher', uploadBps: 150_000 }));
  const [quitter1, quitter2, returner1, returner2] = first;
  const leftWith = new Map<SimPeer, number>();
  try {
    await sim.until(sim.start(seeder));
    await sim.until(Promise.all(first.map((l) => sim.start(l))));
    // At 8 s four leechers leave; two of them come back at 20 s with their data; at 12 s four
    // new leechers join (they learn of the peers running then, as from a tracker).
    sim.at(8_000, () => {
      for (const p of [quitter1!, quitter2!, returner1!, returner2!]) {
        leftWith.set(p, p.pieces.size);
        void sim.stop(p);
      }
    });
    sim.at(12_000, () => {
      for (const p of late) void sim.start(p);
    });
    sim.at(20_000, () => {
      for (const p of [returner1!, returner2!]) void sim.start(p, { isKnownComplete: false });
    });
    const expected = [...first.slice(4), ...late, returner1!, returner2!];
    const done = await sim.drive(() => expected.every((l) => l.completedAtMs !== null), 900_000);
    assert.ok(done, `not complete: ${expected.filter((l) => l.completedAtMs === null).map((l) => l.name)}`);
    for (const p of [quitter1!, quitter2!]) assert.equal(p.completedAtMs, null, `${p.name} left for good`);
    for (const p of leftWith.keys()) assert.ok(leftWith.get(p)! > 0, `${p.name} had pieces when it left`);
    for (const p of [returner1!, returner2!]) {
      // It kept what it had verified (fast-resume record of its first run): only the rest is fetched again.
      const downloaded = p.handle!.status().downloadedBytes;
      assert.ok(
        downloaded < fileBytes,
        `${p.name} downloaded ${downloaded} of ${fileBytes} after coming back`,
      );
      assert.ok(p.completedAtMs! > 20_000);
    }
    for (const p of late) assert.ok(p.completedAtMs! > 12_000);
    assert.deepEqual(sim.bannedAddresses(), []);
    assert.equal(
      sim.peers.reduce((n, p) => n + p.hashFailures, 0),
      0,
    );
  } finally {
    await sim.close();
  }
});
