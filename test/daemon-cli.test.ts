import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { content, type DaemonProcess, makeTorrent, spawnDaemon, TOKEN } from './daemon-helpers.js';
import { CLI_PATH, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

describe('peerdrop add/list/pause/resume/remove', () => {
  const tmp = tempDir('peerdrop-daemon-cli-');
  const dataDir = join(tmp.path, 'data');
  const downloads = join(tmp.path, 'downloads');
  const env = { PEERDROP_TOKEN: TOKEN };
  let d: DaemonProcess | null = null;
  after(async () => {
    await d?.stop();
    tmp.cleanup();
  });

  it('works on the saved state when no daemon runs, and the daemon picks it up', async () => {
    const t = await makeTorrent(downloads, 'offline', { 'o.bin': content(20_000, 6) });
    const file = join(tmp.path, 'offline.torrent');
    writeFileSync(file, t.bytes);
    const add = await runCli(['add', file, '--data-dir', dataDir], { env });
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /added 1 .*no daemon running/);
    const magnet = 'magnet:?xt=urn:btih:1111111111111111111111111111111111111111&dn=later';
    assert.equal((await runCli(['add', magnet, '--data-dir', dataDir], { env })).code, 0);
    assert.equal((await runCli(['pause', '2', '--data-dir', dataDir], { env })).code, 0);
    const list = await runCli(['list', '--data-dir', dataDir, '--json'], { env });
    const rows = JSON.parse(list.stdout) as { id: number; state: string; name: string }[];
    assert.deepEqual(
      rows.map((r) => [r.id, r.state, r.name]),
      [
        [1, 'active', 'offline'],
        [2, 'paused', 'later'],
      ],
    );

    d = await spawnDaemon(['--data-dir', dataDir, '--download-dir', downloads, '--peer-port', '0']);
    assert.equal(d.info.torrents, 2);
    const running = await runCli(['list', '--data-dir', dataDir, '--json'], { env });
    const live = JSON.parse(running.stdout) as { id: number; state: string }[];
    assert.equal(live.find((r) => r.id === 2)?.state, 'paused');
    assert.notEqual(live.find((r) => r.id === 1)?.state, 'paused');
  });

  it('talks to the running daemon found through daemon.json', async () => {
    const pause = await runCli(['pause', '1', '--data-dir', dataDir], { env });
    assert.equal(pause.code, 0, pause.stderr);
    assert.doesNotMatch(pause.stdout, /no daemon/);
    const view = (await (await d!.api('/api/torrents/1')).json()) as { state: string };
    assert.equal(view.state, 'paused');
    assert.equal((await runCli(['resume', '1', '--data-dir', dataDir], { env })).code, 0);
    assert.notEqual(((await (await d!.api('/api/torrents/1')).json()) as { state: string }).state, 'paused');
    const text = await runCli(['list', '--data-dir', dataDir], { env });
    assert.match(text.stdout, /offline/);
    assert.equal((await runCli(['remove', '2', '--data-dir', dataDir], { env })).code, 0);
    assert.equal((await d!.api('/api/torrents/2')).status, 404);
    const missing = await runCli(['pause', '99', '--data-dir', dataDir], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no torrent 99/);
  });

  it('starts the daemon with no command, prints the one-time login link, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        CLI_PATH,
        '--port',
        '0',
        '--data-dir',
        join(tmp.path, 'other'),
        '--download-dir',
        downloads,
        '--peer-port',
        '0',
      ],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    const deadline = Date.now() + 30_000;
    while (!out.includes('login link') && Date.now() < deadline && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 50));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'a clean stop');
    assert.match(out, /peerdrop daemon on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /login link: http:\/\/127\.0\.0\.1:\d+\/login\?code=[\w-]{20,}/);
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /daemon/);
  });
});
