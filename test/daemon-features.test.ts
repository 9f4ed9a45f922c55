import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { content, type InProcess, json, makeTorrent, startInProcess, waitFor } from './daemon-helpers.js';
import { tempDir } from './helpers/tmp.js';

interface View {
  infoHash: string;
  id: number;
  state: string;
  progress: number;
  queuePosition: number | null;
  labels: string[];
  downloadDir: string;
  warnings: { code: string; path: string }[];
}

const magnet = (n: number) => `magnet:?xt=urn:btih:${n.toString(16).padStart(40, '0')}&dn=m${n}`;

describe('daemon features: queue, limits, goals, moving, watch folder, RSS, diagnosis, warnings', () => {
  const tmp = tempDir('peerdrop-daemon-features-');
  let d: InProcess;
  let feedServer: Server;
  let feedBase = '';
  const files = new Map<string, { type: string; body: Uint8Array | string }>();
  const put = (path: string, body: unknown) => d.fetch(path, { ...json(body), method: 'PUT' });
  const view = async (id: string | number) => (await (await d.fetch(`/api/torrents/${id}`)).json()) as View;
  const settle = () => d.daemon.jobs.tick();

  before(async () => {
    d = await startInProcess(tmp.path, {}, { fetchPolicy: { allowPrivate: true } });
    feedServer = createServer((req, res) => {
      const f = files.get(req.url ?? '');
      if (!f) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': f.type }).end(f.body);
    });
    await new Promise<void>((r) => feedServer.listen(0, '127.0.0.1', r));
    feedBase = `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}`;
  });
  after(async () => {
    await d.close();
    await new Promise((r) => feedServer.close(r));
    tmp.cleanup();
  });

  it('queues downloads beyond the limit, follows the queue order, and a slow torrent frees its slot', async () => {
    assert.equal((await put('/api/settings', { maxActiveDownloads: 1, slowAfterSeconds: 3600 })).status, 200);
    const a = (await (await d.fetch('/api/torrents', json({ magnet: magnet(1) }))).json()) as View;
    const b = (await (await d.fetch('/api/torrents', json({ magnet: magnet(2) }))).json()) as View;
    assert.equal(a.state, 'metadata');
    assert.equal(b.state, 'queued');
    assert.deepEqual([a.queuePosition, b.queuePosition], [0, 1]);
    const moved = (await (await put(`/api/torrents/${b.id}/queue`, { position: 0 })).json()) as View;
    assert.equal(moved.queuePosition, 0);
    assert.equal(moved.state, 'metadata', 'the torrent moved to the front runs');
    assert.equal((await view(a.id)).state, 'queued', 'and the one behind it waits');
    // A user pause frees the slot for the next in line.
    await d.fetch(`/api/torrents/${b.id}/pause`, { method: 'POST' });
    await settle();
    assert.equal((await view(a.id)).state, 'metadata');
    assert.equal((await view(b.id)).state, 'paused');
    // Resumed while the slot is taken, it waits in the queue instead.
    await d.fetch(`/api/torrents/${b.id}/resume`, { method: 'POST' });
    assert.equal((await view(b.id)).state, 'queued');
    // Slow (no metadata, nothing moving) for longer than slowAfterSeconds: both run.
    await put('/api/settings', { slowAfterSeconds: 1 });
    await settle();
    await new Promise((r) => setTimeout(r, 1100));
    await settle();
    await settle();
    assert.equal((await view(b.id)).state, 'metadata');
    assert.equal((await view(a.id)).state, 'metadata');
    const session = (await (await d.fetch('/api/session')).json()) as { queuedTorrents: number };
    assert.equal(session.queuedTorrents, 0);
    for (const t of [a, b]) await d.fetch(`/api/torrents/${t.id}`, { method: 'DELETE' });
    await put('/api/settings', { maxActiveDownloads: 5, slowAfterSeconds: 60 });
  });

  it('moves a finished torrent to the completed folder and trusts its pieces there (no re-check)', async () => {
    const t = await makeTorrent(join(tmp.path, 'downloads'), 'movie', { 'a.bin': content(40_000, 5) });
    const added = (await (
      await d.fetch('/api/torrents', json({ torrent: Buffer.from(t.bytes).toString('base64') }))
    ).json()) as View;
    await waitFor('seeding', async () => (await view(added.id)).state === 'seeding');
    // Close the engine's files so the resume record is written, then corrupt a byte keeping size
    // and mtime: a re-check after the move would notice; trusting the resume record does not.
    await put('/api/settings', { completedDir: 'done' });
    const moved = await waitFor('moved', async () => {
      const v = (await d.fetch(`/api/torrents/${t.infoHash}`).then((r) => r.json())) as View;
      return v.downloadDir.endsWith('/done') && v.state === 'seeding' ? v : null;
    });
    const path = join(moved.downloadDir, 'movie', 'a.bin');
    assert.ok(existsSync(path), 'the file is in the completed folder');
    assert.ok(!existsSync(join(tmp.path, 'downloads', 'movie')), 'and gone from where it was');
    assert.equal(moved.progress, 1);
    assert.equal(moved.id, added.id, 'the same record (and id) after the move');
    // Moved again (to a second folder) after tampering: the record is trusted, no hashing.
    const st = statSync(path);
    const bytes = readFileSync(path);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(path, bytes);
    utimesSync(path, st.atime, st.mtime);
    mkdirSync(join(tmp.path, 'downloads', 'again'));
    await d.daemon.relocate(t.infoHash, realpathSync(join(tmp.path, 'downloads', 'again')));
    const again = await view(t.infoHash);
    assert.equal(again.progress, 1, 'verified pieces carried over without a re-check');
    assert.equal(again.id, added.id);
    assert.equal(d.daemon.store.listTorrents().filter((r) => r.infoHash === t.infoHash).length, 1);
    await put('/api/settings', { completedDir: null });
    await d.fetch(`/api/torrents/${t.infoHash}?deleteData=true`, { method: 'DELETE' });
    assert.equal((await put('/api/settings', { completedDir: '../outside' })).status, 400);
  });

  it('pauses a torrent at its seeding goal', async () => {
    const t = await makeTorrent(join(tmp.path, 'downloads'), 'goal', { 'g.bin': content(20_000, 9) });
    await d.fetch('/api/torrents', json({ torrent: Buffer.from(t.bytes).toString('base64') }));
    await waitFor('seeding', async () => (await view(t.infoHash)).state === 'seeding');
    await put(`/api/torrents/${t.infoHash}/seed-goals`, { seedSeconds: 0 });
    await settle();
    await settle();
    assert.equal((await view(t.infoHash)).state, 'paused');
    assert.equal(d.daemon.record(t.infoHash).state, 'paused', 'kept across a restart');
    await d.fetch(`/api/torrents/${t.infoHash}`, { method: 'DELETE' });
  });

  it('adds .torrent files from the watch folder, renaming them .added, and bad ones .invalid', async () => {
    const t = await makeTorrent(join(tmp.path, 'downloads'), 'watched', { 'w.bin': content(10_000, 11) });
    assert.equal((await put('/api/settings', { watchDir: 'watch' })).status, 200);
    const dir = join(tmp.path, 'downloads', 'watch');
    writeFileSync(join(dir, 'good.torrent'), t.bytes);
    writeFileSync(join(dir, 'bad.torrent'), 'd4:infoi1ee');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const r = await d.daemon.watchFolder.scan(true);
    assert.deepEqual(r.added, ['good.torrent']);
    assert.equal(r.invalid[0]?.file, 'bad.torrent');
    assert.ok(existsSync(join(dir, 'good.torrent.added')));
    assert.ok(existsSync(join(dir, 'bad.torrent.invalid')));
    assert.ok(existsSync(join(dir, 'notes.txt')));
    assert.ok(d.daemon.store.getTorrent(t.infoHash));
    // A file seen once still changing is left for the next scan.
    writeFileSync(join(dir, 'late.torrent'), t.bytes);
    assert.deepEqual((await d.daemon.watchFolder.scan()).added, []);
    await put('/api/settings', { watchDir: null });
    await d.fetch(`/api/torrents/${t.infoHash}`, { method: 'DELETE' });
  });

  it('fetches feeds through the outbound guard: loopback is refused by default', async () => {
    const guarded = await startInProcess(join(tmp.path, 'guarded'));
    try {
      const feed = guarded.daemon.rss.addFeed({
        url: `${feedBase}/feed.xml`,
        name: 'f',
        isEnabled: true,
        intervalMinutes: 30,
        label: null,
        downloadDir: null,
      });
      const state = await guarded.daemon.rss.refresh(feed.id);
      assert.match(state.lastError ?? '', /refused/);
      assert.equal(guarded.daemon.store.listTorrents().length, 0);
    } finally {
      await guarded.close();
    }
  });

  it('explains why a torrent is not downloading, with codes', async () => {
    const added = (await (await d.fetch('/api/torrents', json({ magnet: magnet(5) }))).json()) as View;
    const diag = (await (await d.fetch(`/api/torrents/${added.id}/diagnosis`)).json()) as {
      state: string;
      reasons: { code: string; message: string }[];
      facts: { knownPeers: number; incomingConnectionsAccepted: number };
    };
    const codes = diag.reasons.map((r) => r.code);
    assert.ok(codes.includes('METADATA_PENDING'), codes.join());
    assert.ok(codes.includes('NO_PEER_SOURCES'), codes.join());
    assert.ok(codes.includes('NO_PEERS_KNOWN'), codes.join());
    assert.ok(codes.includes('PORT_UNVERIFIED'), codes.join());
    assert.equal(diag.facts.knownPeers, 0);
    await d.fetch(`/api/torrents/${added.id}/pause`, { method: 'POST' });
    const paused = (await (await d.fetch(`/api/torrents/${added.id}/diagnosis`)).json()) as typeof diag;
    assert.deepEqual(
      paused.reasons.map((r) => r.code),
      ['PAUSED'],
    );
    assert.equal((await d.fetch('/api/torrents/zz/diagnosis')).status, 400);
    await d.fetch(`/api/torrents/${added.id}`, { method: 'DELETE' });
  });

  it('flags disguised files in `warnings`, and downloaded files are never executable', async () => {
    const exe = content(20_000, 13);
    exe.set([0x4d, 0x5a], 0);
    const seeded = await makeTorrent(join(tmp.path, 'seeder-data'), 'pack', {
      'film.mp4': exe,
      'film.mp4.exe': content(1000, 14),
      'readme.txt': new TextEncoder().encode('hello there, a plain text file'),
    });
    const seeder = await startInProcess(
      join(tmp.path, 'seeder'),
      {},
      { downloadDir: join(tmp.path, 'seeder-data') },
    );
    try {
      await seeder.fetch('/api/torrents', json({ torrent: Buffer.from(seeded.bytes).toString('base64') }));
      await waitFor('seeder seeding', async () => seeder.daemon.view(seeded.infoHash)?.state === 'seeding');
      const added = (await (
        await d.fetch('/api/torrents', json({ torrent: Buffer.from(seeded.bytes).toString('base64') }))
      ).json()) as View;
      assert.deepEqual(
        added.warnings.map((w) => `${w.code} ${w.path}`),
        ['DOUBLE_EXTENSION pack/film.mp4.exe'],
      );
      d.daemon.handle(seeded.infoHash).addPeer(`127.0.0.1:${seeder.daemon.session.port}`);
      await waitFor('downloaded', async () => (await view(seeded.infoHash)).state === 'seeding', 20_000);
      const flagged = await waitFor('content checked', async () => {
        const v = await view(seeded.infoHash);
        return v.warnings.some((w) => w.code === 'CONTENT_MISMATCH') ? v : null;
      });
      assert.ok(flagged.warnings.some((w) => w.code === 'CONTENT_MISMATCH' && w.path === 'pack/film.mp4'));
      for (const f of ['film.mp4', 'film.mp4.exe', 'readme.txt']) {
        const mode = statSync(join(flagged.downloadDir, 'pack', f)).mode;
        assert.equal(mode & 0o111, 0, `${f} is not executable (mode ${mode.toString(8)})`);
      }
    } finally {
      await seeder.close();
    }
  });

  it('adds paused, and file priorities survive a pause and resume', async () => {
    const t = await makeTorrent(join(tmp.path, 'downloads'), 'prio', {
      'a.bin': content(20_000, 15),
      'b.bin': content(20_000, 16),
    });
    const added = (await (
      await d.fetch('/api/torrents', json({ torrent: Buffer.from(t.bytes).toString('base64'), paused: true }))
    ).json()) as View;
    assert.equal(added.state, 'paused');
    assert.equal(d.daemon.handle(t.infoHash).peers().length, 0);
    await d.fetch(`/api/torrents/${added.id}/resume`, { method: 'POST' });
    await waitFor('running', async () => (await view(added.id)).state === 'seeding');
    await put(`/api/torrents/${added.id}/files`, {
      files: [
        { index: 0, priority: 7 },
        { index: 1, priority: 0 },
      ],
    });
    await d.fetch(`/api/torrents/${added.id}/pause`, { method: 'POST' });
    await d.fetch(`/api/torrents/${added.id}/resume`, { method: 'POST' });
    await waitFor(
      'running',
      async () => (await view(added.id)).state !== 'paused' && (await view(added.id)).state !== 'checking',
    );
    assert.deepEqual(d.daemon.handle(t.infoHash).filePriorities(), [7, 0]);
    await d.fetch(`/api/torrents/${added.id}`, { method: 'DELETE' });
  });

  it('applies global limits live (Session.setGlobalLimits) and switches to the alternative speeds', async (t) => {
    const calls: { downloadBps: number; uploadBps: number }[] = [];
    const session = d.daemon.session;
    const original = session.setGlobalLimits.bind(session);
    t.mock.method(session, 'setGlobalLimits', (l: { downloadBps: number; uploadBps: number }) => {
      calls.push({ downloadBps: l.downloadBps, uploadBps: l.uploadBps });
      original(l);
    });
    const limits = { globalDownloadBps: 200_000, globalUploadBps: 100_000 };
    const alt = { altDownloadBps: 20_000, altUploadBps: 10_000 };
    assert.equal((await put('/api/settings', { ...limits, ...alt, isAltSpeedOn: false })).status, 200);
    assert.deepEqual(calls.at(-1), { downloadBps: 200_000, uploadBps: 100_000 });
    const on = (await (await put('/api/settings', { isAltSpeedOn: true })).json()) as {
      isAltSpeedActive: boolean;
    };
    assert.equal(on.isAltSpeedActive, true);
    assert.deepEqual(calls.at(-1), { downloadBps: 20_000, uploadBps: 10_000 });
    const n = calls.length;
    await settle();
    assert.equal(calls.length, n, 'unchanged limits are not applied again each tick');
    await put('/api/settings', { isAltSpeedOn: false, globalDownloadBps: null, globalUploadBps: null });
    assert.deepEqual(calls.at(-1), {
      downloadBps: Number.POSITIVE_INFINITY,
      uploadBps: Number.POSITIVE_INFINITY,
    });
  });

  it('subscribes to a feed: a matching item is added by the daemon, the others are not', async () => {
    const show = await makeTorrent(join(tmp.path, 'feed-src'), 'Show.S01E02', {
      'e.bin': content(9_000, 21),
    });
    const other = 'magnet:?xt=urn:btih:' + 'cd'.repeat(20) + '&dn=Other';
    files.set('/show.torrent', { type: 'application/x-bittorrent', body: show.bytes });
    files.set('/feed.xml', {
      type: 'application/rss+xml',
      body: `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
        <item><title>Show S01E02 720p</title><guid>g1</guid>
          <enclosure url="${feedBase}/show.torrent" type="application/x-bittorrent" length="1"/></item>
        <item><title>Other thing</title><guid>g2</guid><link>${other.replace(/&/g, '&amp;')}</link></item>
      </channel></rss>`,
    });
    const feed = (await (
      await d.fetch('/api/rss/feeds', json({ url: `${feedBase}/feed.xml`, name: 'shows' }))
    ).json()) as { id: string };
    const rule = await d.fetch(
      '/api/rss/rules',
      json({ name: 'show', mustContain: 'Show S01', feedIds: [feed.id], label: 'tv', addPaused: true }),
    );
    assert.equal(rule.status, 201, await rule.clone().text());
    const refreshed = await d.fetch(`/api/rss/feeds/${feed.id}/refresh`, { method: 'POST' });
    assert.equal(refreshed.status, 200, await refreshed.clone().text());
    const ruleId = ((await rule.json()) as { id: string }).id;
    const state = (await refreshed.json()) as { items: { title: string; matchedRule: string | null }[] };
    assert.deepEqual(
      state.items.map((i) => [i.title, i.matchedRule]),
      [
        ['Show S01E02 720p', ruleId],
        ['Other thing', null],
      ],
    );
    const added = await view(show.infoHash);
    assert.equal(added.state, 'paused', 'added as the rule says');
    assert.deepEqual(added.labels, ['tv']);
    assert.equal(d.daemon.store.getTorrent('cd'.repeat(20)), null, 'the item no rule matched is not added');
    // Seen items are not added twice: removed, then refreshed again, it stays removed.
    await d.fetch(`/api/torrents/${show.infoHash}`, { method: 'DELETE' });
    await d.fetch(`/api/rss/feeds/${feed.id}/refresh`, { method: 'POST' });
    assert.equal(d.daemon.store.getTorrent(show.infoHash), null);
    await d.fetch(`/api/rss/feeds/${feed.id}`, { method: 'DELETE' });
  });
});
