// Queued and paused torrents are dormant (issue 12): never announced, never dialled, at add,
// at restore, until the queue lets them run. A tracker on loopback records every announce.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type InProcess, json, startInProcess, waitFor } from './daemon-helpers.js';
import { tempDir } from './helpers/tmp.js';

interface View {
  infoHash: string;
  id: number;
  state: string;
}

/** Hex info-hash and event of each announce (`info_hash` is percent-encoded raw bytes). */
interface Announce {
  readonly infoHash: string;
  readonly event: string;
}

function parseAnnounce(url: string): Announce | null {
  const query = url.split('?', 2)[1] ?? '';
  let infoHash: string | null = null;
  let event = '';
  for (const part of query.split('&')) {
    const [k, v = ''] = part.split('=', 2);
    if (k === 'info_hash') {
      const bytes: number[] = [];
      for (let i = 0; i < v.length; i++)
        if (v[i] === '%') {
          bytes.push(Number.parseInt(v.slice(i + 1, i + 3), 16));
          i += 2;
        } else bytes.push(v.charCodeAt(i));
      infoHash = Buffer.from(bytes).toString('hex');
    } else if (k === 'event') event = v;
  }
  return infoHash ? { infoHash, event } : null;
}

describe('daemon queue: torrents that may not run are dormant', () => {
  const tmp = tempDir('peerdrop-daemon-queue-');
  const announces: Announce[] = [];
  let tracker: Server;
  let trackerUrl = '';
  let d: InProcess | null = null;
  const magnet = (n: number) =>
    `magnet:?xt=urn:btih:${n.toString(16).padStart(40, 'a')}&dn=q${n}&tr=${encodeURIComponent(trackerUrl)}`;
  const hashOf = (n: number) => n.toString(16).padStart(40, 'a');
  const announcedFor = (n: number) => announces.filter((a) => a.infoHash === hashOf(n));

  before(async () => {
    tracker = createServer((req, res) => {
      const a = parseAnnounce(req.url ?? '');
      if (a) announces.push(a);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('d8:intervali1800e5:peers0:e');
    });
    await new Promise<void>((r) => tracker.listen(0, '127.0.0.1', r));
    trackerUrl = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}/announce`;
  });
  after(async () => {
    await d?.close();
    await new Promise((r) => tracker.close(r));
    tmp.cleanup();
  });

  it('never announces a queued or paused torrent, at add or at restore, until it may run', async () => {
    d = await startInProcess(tmp.path);
    const put = (path: string, body: unknown) => d!.fetch(path, { ...json(body), method: 'PUT' });
    assert.equal((await put('/api/settings', { maxActiveDownloads: 1 })).status, 200);
    const add = async (body: unknown) => (await (await d!.fetch('/api/torrents', json(body))).json()) as View;
    const first = await add({ magnet: magnet(1) });
    const queued = await add({ magnet: magnet(2) });
    const paused = await add({ magnet: magnet(3), paused: true });
    assert.deepEqual([first.state, queued.state, paused.state], ['metadata', 'queued', 'paused']);
    await waitFor('the running torrent announces', async () => announcedFor(1).length > 0);
    // Not in the engine at all: nothing could announce or dial for them.
    assert.equal(d.daemon.session.get(hashOf(2)), undefined);
    assert.equal(d.daemon.session.get(hashOf(3)), undefined);

    await d.close();
    d = await startInProcess(tmp.path);
    const list = ((await (await d.fetch('/api/torrents')).json()) as { torrents: View[] }).torrents;
    assert.deepEqual(
      list.map((t) => [t.infoHash, t.state]),
      [
        [hashOf(1), 'metadata'],
        [hashOf(2), 'queued'],
        [hashOf(3), 'paused'],
      ],
    );
    await waitFor('announced again after the restart', async () => announcedFor(1).length >= 3);
    assert.equal(d.daemon.session.get(hashOf(2)), undefined);
    // The names come from the record's snapshot, not from the engine.
    assert.match(JSON.stringify(list), /"name":"q2"/);

    // The running one paused: the queued one gets the slot and only now announces `started`.
    await d.fetch(`/api/torrents/${first.id}/pause`, { method: 'POST' });
    await d.daemon.jobs.tick();
    await waitFor('the queued torrent runs', async () => announcedFor(2).length > 0);
    assert.equal(announcedFor(2)[0]?.event, 'started');
    assert.deepEqual(announcedFor(3), [], 'the paused torrent never announced');
    assert.deepEqual(
      announcedFor(1).map((a) => a.event),
      ['started', 'stopped', 'started', 'stopped'],
    );
  });
});
