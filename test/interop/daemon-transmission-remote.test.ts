/**
 * The daemon's Transmission RPC driven by Debian's real `transmission-remote` (3.00 posts to
 * /transmission/rpc/ with the trailing slash): add (file and magnet), list, stop, start,
 * remove, authenticated with `--auth user:TOKEN`. In CI a missing binary is a failure.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { content, type DaemonProcess, makeTorrent, spawnDaemon, TOKEN, waitFor } from '../daemon-helpers.js';
import { tempDir } from '../helpers/tmp.js';

const hasBinary = spawnSync('transmission-remote', ['--version'], { stdio: 'ignore' }).error === undefined;
if (!hasBinary && process.env.CI === 'true')
  throw new Error('transmission-remote is missing (apt-get install transmission-cli)');
if (!hasBinary)
  process.stdout.write('# skip: transmission-remote not installed (apt-get install transmission-cli)\n');

function remote(
  port: number,
  args: readonly string[],
  auth = `user:${TOKEN}`,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'transmission-remote',
      [`127.0.0.1:${port}`, '--auth', auth, ...args],
      { timeout: 20_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
      },
    );
  });
}

describe('daemon with transmission-remote', { skip: !hasBinary }, () => {
  const tmp = tempDir('peerdrop-daemon-tr-');
  let d: DaemonProcess;
  after(async () => {
    await d?.stop();
    tmp.cleanup();
  });

  it('adds, lists, stops, starts and removes torrents', async () => {
    const downloads = join(tmp.path, 'downloads');
    d = await spawnDaemon([
      '--data-dir',
      join(tmp.path, 'data'),
      '--download-dir',
      downloads,
      '--peer-port',
      '0',
    ]);
    const t = await makeTorrent(downloads, 'remote-test', { 'r.bin': content(40_000, 5) });
    const file = join(tmp.path, 'remote-test.torrent');
    writeFileSync(file, t.bytes);

    const denied = await remote(d.port, ['-l'], 'user:wrong-token-000000000');
    assert.notEqual(denied.code, 0);
    assert.match(denied.out, /AUTH_REQUIRED|401|Unauthorized/i);

    const added = await remote(d.port, ['-a', file]);
    assert.equal(added.code, 0, added.out);
    assert.match(added.out, /success/);
    const magnet = await remote(d.port, [
      '-a',
      'magnet:?xt=urn:btih:aabbccddeeff00112233445566778899aabbccdd&dn=second',
    ]);
    assert.match(magnet.out, /success/);

    await waitFor('seeding in the list', async () => {
      const list = await remote(d.port, ['-l']);
      return /remote-test/.test(list.out) && /Seeding|Idle/.test(list.out) && list.out.includes('second')
        ? list
        : null;
    });
    const list = await remote(d.port, ['-l']);
    assert.match(list.out, /^\s+1\s+100%/m, list.out);

    assert.match((await remote(d.port, ['-t', '1', '--stop'])).out, /success/);
    await waitFor('stopped', async () => /Stopped/.test((await remote(d.port, ['-l'])).out));
    const view = (await (await d.api(`/api/torrents/${t.infoHash}`)).json()) as { state: string };
    assert.equal(view.state, 'paused');

    assert.match((await remote(d.port, ['-t', '1', '--start'])).out, /success/);
    await waitFor('started', async () => {
      const v = (await (await d.api(`/api/torrents/${t.infoHash}`)).json()) as { state: string };
      return v.state === 'seeding';
    });

    const info = await remote(d.port, ['-t', '1', '-i']);
    assert.match(info.out, new RegExp(t.infoHash));

    assert.match((await remote(d.port, ['-t', '2', '--remove'])).out, /success/);
    assert.match((await remote(d.port, ['-t', '1', '--remove'])).out, /success/);
    const empty = ((await (await d.api('/api/torrents')).json()) as { torrents: unknown[] }).torrents;
    assert.equal(empty.length, 0);
  });

  it('answers 409 with the session id first, and takes the request with it', async () => {
    const basic = `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`;
    const body = JSON.stringify({ method: 'session-get', arguments: { fields: ['version', 'rpc-version'] } });
    const first = await fetch(`${d.base}/transmission/rpc`, {
      method: 'POST',
      headers: { authorization: basic },
      body,
    });
    assert.equal(first.status, 409);
    const id = first.headers.get('x-transmission-session-id');
    assert.ok(id && id.length >= 20);
    const wrong = await fetch(`${d.base}/transmission/rpc`, {
      method: 'POST',
      headers: { authorization: basic, 'x-transmission-session-id': 'guess' },
      body,
    });
    assert.equal(wrong.status, 409);
    const ok = await fetch(`${d.base}/transmission/rpc`, {
      method: 'POST',
      headers: { authorization: basic, 'x-transmission-session-id': id },
      body,
    });
    assert.equal(ok.status, 200);
    const answer = (await ok.json()) as { result: string; arguments: Record<string, unknown> };
    assert.equal(answer.result, 'success');
    assert.deepEqual(Object.keys(answer.arguments).sort(), ['rpc-version', 'version']);
    const call = async (method: string, args: unknown) =>
      (await (
        await fetch(`${d.base}/transmission/rpc/`, {
          method: 'POST',
          headers: { authorization: basic, 'x-transmission-session-id': id },
          body: JSON.stringify({ method, arguments: args }),
        })
      ).json()) as { result: string; arguments: Record<string, unknown> };
    assert.equal(
      (await call('torrent-add', { filename: '/etc/passwd' })).result.includes('only magnet'),
      true,
    );
    assert.equal((await call('free-space', { path: '/etc' })).result === 'success', false);
    assert.equal((await call('free-space', { path: join(tmp.path, 'downloads') })).result, 'success');
    assert.equal(
      (await call('session-set', { 'speed-limit-down': 100, 'speed-limit-down-enabled': true })).result,
      'success',
    );
    assert.equal(
      (await call('session-get', { fields: ['speed-limit-down'] })).arguments['speed-limit-down'],
      100,
    );
  });
});
