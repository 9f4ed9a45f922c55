import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { content, type DaemonProcess, json, makeTorrent, spawnDaemon, waitFor } from './daemon-helpers.js';
import { tempDir } from './helpers/tmp.js';

interface View {
  infoHash: string;
  state: string;
  progress: number;
  labels: string[];
  limits: { downloadBps: number | null };
}

describe('daemon restart after kill -9', () => {
  const tmp = tempDir('peerdrop-daemon-restart-');
  let running: DaemonProcess | null = null;
  after(async () => {
    await running?.stop();
    tmp.cleanup();
  });

  it('brings every torrent back in the state it was in, nothing downloaded again', async () => {
    const downloads = join(tmp.path, 'downloads');
    const args = ['--data-dir', join(tmp.path, 'data'), '--download-dir', downloads, '--peer-port', '0'];
    const seeding = await makeTorrent(downloads, 'seeding', {
      'a.bin': content(50_000, 1),
      'b.bin': content(20_000, 2),
    });
    const paused = await makeTorrent(downloads, 'paused', { 'c.bin': content(30_000, 3) });
    const magnet = 'magnet:?xt=urn:btih:00112233445566778899aabbccddeeff00112233&dn=waiting';

    running = await spawnDaemon(args);
    const add = async (body: unknown) => {
      const res = await running!.api('/api/torrents', json(body));
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()) as View;
    };
    await add({ torrent: Buffer.from(seeding.bytes).toString('base64'), labels: ['keep'] });
    await add({ torrent: Buffer.from(paused.bytes).toString('base64') });
    await add({ magnet });
    await waitFor('seeding', async () => {
      const v = (await (await running!.api(`/api/torrents/${seeding.infoHash}`)).json()) as View;
      return v.state === 'seeding';
    });
    const put = (path: string, body: unknown) => running!.api(path, { ...json(body), method: 'PUT' });
    assert.equal(
      (await put(`/api/torrents/${seeding.infoHash}/files`, { files: [{ index: 1, priority: 7 }] })).status,
      200,
    );
    assert.equal(
      (await put(`/api/torrents/${seeding.infoHash}/limits`, { downloadBps: 123_000 })).status,
      200,
    );
    assert.equal(
      (await running.api(`/api/torrents/${paused.infoHash}/pause`, { method: 'POST' })).status,
      200,
    );
    // Let the engine's resume records be written (every 2 s while pieces change, and on pause).
    await new Promise((r) => setTimeout(r, 2500));

    running.child.kill('SIGKILL');
    await new Promise((r) => running!.child.once('exit', r));

    running = await spawnDaemon(args);
    assert.equal(running.info.torrents, 3);
    const list = ((await (await running.api('/api/torrents')).json()) as { torrents: View[] }).torrents;
    const byHash = new Map(list.map((t) => [t.infoHash, t]));
    const s = byHash.get(seeding.infoHash)!;
    assert.deepEqual(s.labels, ['keep']);
    assert.equal(s.limits.downloadBps, 123_000);
    await waitFor('seeding after restart', async () => {
      const v = (await (await running!.api(`/api/torrents/${seeding.infoHash}`)).json()) as View & {
        downloadedBytes: number;
      };
      return v.state === 'seeding' && v.progress === 1 && v.downloadedBytes === 0 ? v : null;
    });
    const files = (await (await running.api(`/api/torrents/${seeding.infoHash}/files`)).json()) as {
      files: { priority: number }[];
    };
    assert.deepEqual(
      files.files.map((f) => f.priority),
      [4, 7],
    );
    const p = byHash.get(paused.infoHash)!;
    assert.equal(p.state, 'paused');
    // Shown from its record's snapshot (paused torrents stay out of the engine): still complete.
    assert.equal(p.progress, 1);
    assert.equal(byHash.get('00112233445566778899aabbccddeeff00112233')?.state, 'metadata');
    // The paused torrent's verified data is kept too: resumed, it seeds without peers.
    assert.equal(
      (await running.api(`/api/torrents/${paused.infoHash}/resume`, { method: 'POST' })).status,
      200,
    );
    await waitFor('resumed torrent seeds', async () => {
      const v = (await (await running!.api(`/api/torrents/${paused.infoHash}`)).json()) as View;
      return v.state === 'seeding';
    });
  });
});
