import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { content, type InProcess, json, makeTorrent, startInProcess, waitFor } from './daemon-helpers.js';
import { tempDir } from './helpers/tmp.js';

describe('daemon HTTP API', () => {
  const tmp = tempDir('peerdrop-daemon-api-');
  let d: InProcess;
  let seeded: { bytes: Uint8Array; infoHash: string; magnet: string };
  const video = content(100_000, 7);

  before(async () => {
    d = await startInProcess(tmp.path, { pieceTimeoutMs: 300 });
    // Data already in the download folder: the torrent verifies and seeds.
    seeded = await makeTorrent(join(tmp.path, 'downloads'), 'show', {
      'clip.mp4': video,
      'page.html': new TextEncoder().encode('<script>alert(1)</script>'),
    });
  });
  after(async () => {
    await d.close();
    tmp.cleanup();
  });

  it('adds a .torrent as base64 JSON, lists it, and shows it with its files', async () => {
    const res = await d.fetch(
      '/api/torrents',
      json({ torrent: Buffer.from(seeded.bytes).toString('base64'), labels: ['tv'] }),
    );
    assert.equal(res.status, 201);
    const added = (await res.json()) as { infoHash: string; id: number; labels: string[] };
    assert.equal(added.infoHash, seeded.infoHash);
    assert.deepEqual(added.labels, ['tv']);
    const list = (await (await d.fetch('/api/torrents')).json()) as { torrents: { infoHash: string }[] };
    assert.deepEqual(
      list.torrents.map((t) => t.infoHash),
      [seeded.infoHash],
    );
    await waitFor('seeding', async () => {
      const t = (await (await d.fetch(`/api/torrents/${added.id}`)).json()) as { state: string };
      return t.state === 'seeding';
    });
    const one = (await (await d.fetch(`/api/torrents/${seeded.infoHash}`)).json()) as {
      files: { path: string }[];
    };
    assert.deepEqual(one.files.map((f) => f.path).sort(), ['show/clip.mp4', 'show/page.html']);
  });

  it('streams a file with range requests: 200, 206, suffix ranges, 416, content type by extension', async () => {
    const full = await d.fetch(`/api/torrents/${seeded.infoHash}/files/0`);
    assert.equal(full.status, 200);
    assert.equal(full.headers.get('content-type'), 'video/mp4');
    assert.equal(full.headers.get('accept-ranges'), 'bytes');
    assert.deepEqual(new Uint8Array(await full.arrayBuffer()), video);
    const part = await d.fetch(`/api/torrents/${seeded.infoHash}/files/0`, {
      headers: { range: 'bytes=16380-16399' },
    });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 16380-16399/${video.length}`);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), video.subarray(16380, 16400));
    const suffix = await d.fetch(`/api/torrents/${seeded.infoHash}/files/0`, {
      headers: { range: 'bytes=-10' },
    });
    assert.equal(suffix.status, 206);
    assert.deepEqual(new Uint8Array(await suffix.arrayBuffer()), video.subarray(video.length - 10));
    const beyond = await d.fetch(`/api/torrents/${seeded.infoHash}/files/0`, {
      headers: { range: `bytes=${video.length}-` },
    });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${video.length}`);
    // A torrent's HTML must never run as a page of the daemon's origin.
    const html = await d.fetch(`/api/torrents/${seeded.infoHash}/files/1`);
    assert.equal(html.headers.get('content-type'), 'application/octet-stream');
    await html.arrayBuffer();
  });

  it('answers 503 for a range whose pieces are not downloaded, after waiting', async () => {
    const missing = await makeTorrent(join(tmp.path, 'elsewhere'), 'missing', {
      'a.bin': content(40_000, 3),
    });
    const res = await d.fetch(
      '/api/torrents',
      json({ torrent: Buffer.from(missing.bytes).toString('base64') }),
    );
    assert.equal(res.status, 201);
    const started = Date.now();
    const stream = await d.fetch(`/api/torrents/${missing.infoHash}/files/0`, {
      headers: { range: 'bytes=0-99' },
    });
    assert.equal(stream.status, 503);
    assert.equal(((await stream.json()) as { code: string }).code, 'DAEMON_DATA_UNAVAILABLE');
    assert.ok(Date.now() - started >= 250, 'waited for the piece first');
    // The range's stream window fetches it first: the file's priority is left as it was.
    const files = (await (await d.fetch(`/api/torrents/${missing.infoHash}/files`)).json()) as {
      files: { priority: number }[];
    };
    assert.equal(files.files[0]!.priority, 4);
    assert.equal((await d.fetch(`/api/torrents/${missing.infoHash}`, { method: 'DELETE' })).status, 200);
  });

  it('pauses and resumes, sets priorities, limits, labels, and lists peers and trackers', async () => {
    const h = seeded.infoHash;
    const paused = (await (await d.fetch(`/api/torrents/${h}/pause`, { method: 'POST' })).json()) as {
      state: string;
    };
    assert.equal(paused.state, 'paused');
    assert.equal(d.daemon.store.getTorrent(h)!.state, 'paused');
    const prio = await d.fetch(`/api/torrents/${h}/files`, {
      ...json({ files: [{ index: 1, priority: 0 }] }),
      method: 'PUT',
    });
    assert.equal(prio.status, 200);
    assert.deepEqual(d.daemon.store.getTorrent(h)!.filePriorities, [4, 0]);
    const resumed = (await (await d.fetch(`/api/torrents/${h}/resume`, { method: 'POST' })).json()) as {
      state: string;
    };
    assert.notEqual(resumed.state, 'paused');
    assert.deepEqual(
      d.daemon.session.get(h)!.filePriorities(),
      [4, 0],
      'priorities applied again after resume',
    );
    const limits = await d.fetch(`/api/torrents/${h}/limits`, {
      ...json({ downloadBps: 100_000, uploadBps: null }),
      method: 'PUT',
    });
    assert.deepEqual(((await limits.json()) as { limits: unknown }).limits, {
      downloadBps: 100_000,
      uploadBps: null,
    });
    const labels = await d.fetch(`/api/torrents/${h}/labels`, {
      ...json({ labels: ['a', 'b'] }),
      method: 'PUT',
    });
    assert.deepEqual(((await labels.json()) as { labels: string[] }).labels, ['a', 'b']);
    assert.deepEqual(await (await d.fetch(`/api/torrents/${h}/peers`)).json(), { peers: [] });
    assert.ok(
      Array.isArray(
        ((await (await d.fetch(`/api/torrents/${h}/trackers`)).json()) as { trackers: unknown[] }).trackers,
      ),
    );
  });

  it('gets and sets settings and session totals', async () => {
    const set = await d.fetch('/api/settings', {
      ...json({ globalUploadBps: 50_000, seedRatio: 2 }),
      method: 'PUT',
    });
    const settings = (await set.json()) as {
      globalUploadBps: number;
      seedRatio: number;
      downloadDir: string;
    };
    assert.equal(settings.globalUploadBps, 50_000);
    assert.equal(settings.seedRatio, 2);
    const session = (await (await d.fetch('/api/session')).json()) as { torrents: number; version: string };
    assert.equal(session.torrents, 1);
  });

  it('refuses bad requests with 400 and a {code, message}', async () => {
    const cases: [string, RequestInit][] = [
      ['/api/torrents', json({ magnet: 'magnet:?xt=urn:btih:zz', extra: 1 })],
      ['/api/torrents', json({ magnet: 'magnet:?xt=urn:btih:nothex' })],
      ['/api/torrents', json({ torrent: 'not base64 !!' })],
      ['/api/torrents', json({ torrent: Buffer.from('d4:infoi1ee').toString('base64') })],
      ['/api/torrents', json({})],
      ['/api/torrents', json({ magnet: seeded.magnet, downloadDir: '../escape' })],
      ['/api/torrents', json({ magnet: seeded.magnet, downloadDir: '/etc' })],
      ['/api/torrents/not-an-id', { method: 'GET' }],
      [
        `/api/torrents/${seeded.infoHash}/files`,
        { ...json({ files: [{ index: 0, priority: 9 }] }), method: 'PUT' },
      ],
      [
        `/api/torrents/${seeded.infoHash}/files`,
        { ...json({ files: [{ index: 99, priority: 1 }] }), method: 'PUT' },
      ],
      [
        '/api/torrents',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"magnet":' },
      ],
    ];
    for (const [path, init] of cases) {
      const res = await d.fetch(path, init);
      const body = (await res.json()) as { code?: string; message?: string };
      assert.equal(res.status, 400, `${path} ${String(init.body)} → ${res.status} ${JSON.stringify(body)}`);
      assert.equal(typeof body.code, 'string');
      assert.equal(typeof body.message, 'string');
    }
    assert.equal((await d.fetch('/api/torrents/1234567')).status, 404);
    assert.ok(!existsSync(join(tmp.path, 'escape')), 'nothing was created outside the download folder');
  });

  it('adds a .torrent from a multipart upload', async () => {
    const other = await makeTorrent(join(tmp.path, 'downloads'), 'upload', { 'u.txt': content(1000, 9) });
    const form = new FormData();
    form.set('torrent', new Blob([other.bytes]), 'u.torrent');
    form.set('paused', 'true');
    const res = await d.fetch('/api/torrents/upload', { method: 'POST', body: form });
    assert.equal(res.status, 201);
    const t = (await res.json()) as { infoHash: string; state: string };
    assert.equal(t.infoHash, other.infoHash);
    assert.equal(t.state, 'paused');
  });

  it('removes a torrent with its data, and only its data', async () => {
    const dl = join(tmp.path, 'downloads');
    const doomed = await makeTorrent(dl, 'doomed', {
      'x/one.bin': content(3000, 4),
      'two.bin': content(2000, 5),
    });
    writeFileSync(join(dl, 'doomed', 'mine.txt'), 'the user put this here');
    writeFileSync(join(dl, 'neighbour.txt'), 'not the torrent');
    assert.equal(
      (await d.fetch('/api/torrents', json({ torrent: Buffer.from(doomed.bytes).toString('base64') })))
        .status,
      201,
    );
    const res = await d.fetch(`/api/torrents/${doomed.infoHash}?deleteData=true`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    assert.ok(!existsSync(join(dl, 'doomed', 'x', 'one.bin')));
    assert.ok(!existsSync(join(dl, 'doomed', 'x')), 'empty folder removed');
    assert.ok(!existsSync(join(dl, 'doomed', 'two.bin')));
    assert.equal(readFileSync(join(dl, 'doomed', 'mine.txt'), 'utf8'), 'the user put this here');
    assert.ok(existsSync(join(dl, 'neighbour.txt')));
    assert.equal(d.daemon.store.getTorrent(doomed.infoHash), null);
  });

  it('streams live state as Server-Sent Events', async () => {
    const abort = new AbortController();
    const res = await fetch(`${d.base}/api/events`, {
      headers: { authorization: `Bearer ${(await import('./daemon-helpers.js')).TOKEN}` },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok(res.headers.get('content-security-policy'));
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil('event: torrents');
    const fresh = await makeTorrent(join(tmp.path, 'downloads'), 'sse', { 's.bin': content(500, 11) });
    await d.fetch(
      '/api/torrents',
      json({ torrent: Buffer.from(fresh.bytes).toString('base64'), paused: true }),
    );
    await readUntil('event: added');
    assert.ok(text.includes(fresh.infoHash));
    abort.abort();
  });

  it('serves its OpenAPI document and the web page', async () => {
    const doc = (await (await d.fetch('/api/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.match(doc.openapi, /^3\./);
    for (const p of [
      '/api/torrents',
      '/api/torrents/{id}',
      '/api/torrents/{id}/files/{index}',
      '/api/events',
    ])
      assert.ok(p in doc.paths, `${p} documented`);
    const page = await d.fetch('/');
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/app.js"><\/script>/);
    assert.doesNotMatch(html, /<script>(?!<)/, 'no inline script');
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const js = await d.fetch('/app.js');
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.match(await js.text(), /EventSource\(["']\/api\/events["']\)/);
  });
});
