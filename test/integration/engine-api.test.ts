/**
 * The engine API a daemon drives (issue 8): session get/list/remove with added/removed events,
 * a real paused state, file priorities, limits, peers, trackers, per-file progress, warnings
 * with stable codes, and seed-only torrents that serve what is there and never download.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createTestSwarm, Session } from '../../src/index.js';
import type { SessionWarning } from '../../src/session/events.js';

test('session lists, finds and removes torrents, with added/removed events', async (t) => {
  const swarm = await createTestSwarm({ leechers: 1, sizeBytes: 256 * 1024, files: 2 });
  t.after(() => swarm.close());
  const leecher = swarm.leechers[0]!;
  const added: string[] = [];
  const removed: string[] = [];
  leecher.on('added', (h) => added.push(h.infoHash));
  leecher.on('removed', (hash) => removed.push(hash));
  const [handle] = await swarm.start();
  const h = handle!;
  assert.deepEqual(added, [h.infoHash]);
  assert.equal(leecher.get(h.infoHash), h);
  assert.equal(leecher.get(h.infoHash.toUpperCase()), h, 'hex case does not matter');
  assert.deepEqual(
    leecher.list().map((x) => x.infoHash),
    [h.infoHash],
  );
  await h.done({ signal: AbortSignal.timeout(20_000) });
  const files = h.files();
  assert.ok(files);
  assert.equal(files.length, 2);
  for (const f of files) assert.equal(f.verifiedBytes, f.lengthBytes, `${f.path} fully verified`);
  assert.ok(h.peers().length >= 1, 'the seeder is listed as a peer');
  assert.match(h.peers()[0]!.address, /^127\.0\.0\.1:\d+$/);
  assert.ok(Array.isArray(h.trackers()));
  await leecher.remove(h.infoHash);
  assert.deepEqual(removed, [h.infoHash]);
  assert.equal(leecher.get(h.infoHash), undefined);
  assert.equal(leecher.list().length, 0);
});

test('pause reports the paused state and events; resume continues', async (t) => {
  const swarm = await createTestSwarm({
    leechers: 1,
    sizeBytes: 4 * 1024 * 1024,
    files: 1,
    pieceLengthBytes: 64 * 1024,
    sessionOptions: { uploadLimit: 1024 * 1024 },
  });
  t.after(() => swarm.close());
  const [handle] = await swarm.start();
  const h = handle!;
  const events: string[] = [];
  h.on('paused', () => events.push('paused'));
  h.on('resumed', () => events.push('resumed'));
  while (h.status().verifiedBytes < 256 * 1024) await new Promise((r) => setTimeout(r, 20));
  await h.pause();
  assert.equal(h.status().state, 'paused');
  assert.equal(h.status().peers, 0);
  await h.resume();
  assert.deepEqual(events, ['paused', 'resumed']);
  h.addPeer(`127.0.0.1:${swarm.seeder.port}`);
  await h.done({ signal: AbortSignal.timeout(20_000) });
  assert.equal(h.status().state, 'seeding');
});

test('a skipped file is not downloaded, and choosing it later fetches it', async (t) => {
  const swarm = await createTestSwarm({
    leechers: 1,
    sizeBytes: 1024 * 1024,
    files: 2,
    pieceLengthBytes: 16 * 1024,
  });
  t.after(() => swarm.close());
  const leecher = swarm.leechers[0]!;
  const dir = join(swarm.leecherDir(0), 'prio');
  mkdirSync(dir, { recursive: true });
  const h = await leecher.add(swarm.torrent, {
    dir,
    files: [0],
    peers: [`127.0.0.1:${swarm.seeder.port}`],
  });
  await h.done({ signal: AbortSignal.timeout(20_000) });
  const before = h.files()!;
  assert.equal(before[0]!.verifiedBytes, before[0]!.lengthBytes);
  assert.equal(before[1]!.priority, 0);
  assert.ok(before[1]!.verifiedBytes < before[1]!.lengthBytes, 'file 1 was skipped');
  assert.deepEqual(h.filePriorities(), [4, 0]);
  await assert.rejects(h.setFilePriority(5, 4), /does not exist/);
  await h.setFilePriority(1, 4);
  const deadline = Date.now() + 20_000;
  while (h.files()![1]!.verifiedBytes < h.files()![1]!.lengthBytes && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  assert.equal(h.files()![1]!.verifiedBytes, h.files()![1]!.lengthBytes, 'file 1 fetched once wanted');
});

test('seed-only names the missing file, never downloads, and still serves what it has', async (t) => {
  const swarm = await createTestSwarm({
    leechers: 0,
    sizeBytes: 512 * 1024,
    files: 2,
    pieceLengthBytes: 16 * 1024,
  });
  t.after(() => swarm.close());
  // A second seeder whose copy lacks file-1.bin.
  const partial = join(swarm.seedDir, '..', 'partial');
  mkdirSync(join(partial, 'swarm'), { recursive: true });
  const { readFileSync } = await import('node:fs');
  writeFileSync(
    join(partial, 'swarm', 'file-0.bin'),
    readFileSync(join(swarm.seedDir, 'swarm', 'file-0.bin')),
  );
  rmSync(join(partial, 'swarm', 'file-1.bin'), { force: true });
  const session = new Session({ host: '127.0.0.1' });
  t.after(() => session.close());
  const warnings: SessionWarning[] = [];
  // 'added' comes before the torrent starts, so no early event is missed.
  session.on('added', (added) => added.on('warning', (w) => warnings.push(w)));
  const h = await session.add(swarm.torrent, {
    dir: partial,
    isSeedOnly: true,
    peers: [`127.0.0.1:${swarm.seeder.port}`],
  });
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(h.status().state, 'seeding');
  assert.equal(h.status().downloadedBytes, 0, 'seed-only never downloads');
  const files = h.files()!;
  assert.equal(files[1]!.verifiedBytes, 0);
  assert.ok(h.status().progress < 1);
  const incomplete = warnings.filter((w) => w.code === 'SEED_DATA_INCOMPLETE');
  assert.equal(incomplete.length, 1, JSON.stringify(warnings));
  assert.match(incomplete[0]!.message, /file-1\.bin \(missing or unreadable\)/);
  assert.doesNotMatch(incomplete[0]!.message, /file-0\.bin/);
});
