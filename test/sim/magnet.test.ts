import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simTorrent } from './fixture.js';
import { type SimPeer, SimSwarm } from './sim-swarm.js';

test('magnet links: the info dictionary (several BEP 9 pieces) comes from several peers, then the data', async () => {
  // 400 files with long names: a 60 kB info dictionary, four 16 KiB metadata pieces.
  const torrent = simTorrent({ pieces: 64, pieceLengthBytes: 64 * 1024, seed: 13, files: 400 });
  assert.ok(torrent.metainfo.infoBytes.length > 3 * 16 * 1024);
  const sim = new SimSwarm({ torrent, seed: 13, latencyMs: 20 });
  const seeders: SimPeer[] = [];
  for (let i = 0; i < 3; i++) seeders.push(await sim.addPeer({ role: 'seeder', uploadBps: 4_000_000 }));
  const leechers: SimPeer[] = [];
  for (let i = 0; i < 3; i++) leechers.push(await sim.addPeer({ role: 'leecher', uploadBps: 2_000_000 }));
  try {
    for (const s of seeders) await sim.until(sim.start(s, { knows: [] }));
    await sim.until(Promise.all(leechers.map((l) => sim.start(l, { magnet: true, knows: seeders }))));
    for (const l of leechers) assert.equal(l.handle!.metainfo, null, 'no metadata before peers answer');
    const done = await sim.drive(() => leechers.every((l) => l.completedAtMs !== null), 600_000);
    assert.ok(done, `completed: ${leechers.map((l) => l.completedAtMs)}`);
    for (const l of leechers) {
      assert.ok(l.metadataAtMs !== null && l.metadataAtMs < l.completedAtMs!);
      // Before the metadata was complete, at least two seeders had each sent more than a
      // metadata piece's worth (handshakes and bitfields are far smaller).
      const senders = seeders.filter((s) => (l.bytesAtMetadata!.get(s.name) ?? 0) > 16 * 1024);
      assert.ok(senders.length >= 2, `${l.name}: metadata from ${senders.map((s) => s.name)}`);
      assert.equal(l.handle!.metainfo!.infoHash?.length, 20);
    }
    assert.deepEqual(sim.bannedAddresses(), []);
  } finally {
    await sim.close();
  }
});
