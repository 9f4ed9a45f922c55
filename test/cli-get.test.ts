import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { magnetFromMetainfo, parseMetainfo } from '../src/metainfo/index.js';
import { Session } from '../src/session/session.js';
import { defaultStateDir } from '../src/storage/fs-storage-factory.js';
import { CLI_PATH, runCli } from './helpers/cli.js';
import { diffTrees, writeTree } from './helpers/content.js';
import { tempDir } from './helpers/tmp.js';
import { buildTorrent } from './helpers/torrent-fixtures.js';

const tmp = tempDir();
const SIZE = 8 * 1024 * 1024;
let seeder: Session;
let torrentPath: string;
const seedDir = join(tmp.path, 'seed');

before(async () => {
  mkdirSync(seedDir, { recursive: true });
  writeTree(seedDir, [{ path: 'movie.bin', size: SIZE }], 5);
  const torrent = buildTorrent([{ path: ['movie.bin'], data: readFileSync(join(seedDir, 'movie.bin')) }], {
    name: 'movie.bin',
    pieceLength: 64 * 1024,
    single: true,
  });
  torrentPath = join(tmp.path, 'movie.torrent');
  writeFileSync(torrentPath, torrent);
  // Slow enough that a download is still running when the tests interrupt it.
  seeder = new Session({ host: '127.0.0.1', uploadLimit: 2 * 1024 * 1024 });
  await seeder.add(torrent, { dir: seedDir });
});

after(async () => {
  await seeder.close();
  tmp.cleanup();
});

interface JsonEvent {
  event: string;
  downloadedBytes?: number;
  progress?: number;
}

function startGet(dir: string, extra: string[] = []) {
  const child = spawn(
    process.execPath,
    [
      CLI_PATH,
      'get',
      torrentPath,
      '--dir',
      dir,
      '--host',
      '127.0.0.1',
      '--peer',
      `127.0.0.1:${seeder.port}`,
      '--json',
      ...extra,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  const events = () =>
    out
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as JsonEvent);
  return { child, exited, events };
}

async function waitForProgress(
  events: () => JsonEvent[],
  minBytes: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (events().some((e) => e.event === 'progress' && (e.downloadedBytes ?? 0) >= minBytes)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('download did not make progress in time');
}

describe('peerdrop get', () => {
  test('downloads, prints JSON events, and exits 0 when complete', async () => {
    const dir = join(tmp.path, 'full');
    const run = startGet(dir);
    assert.equal(await run.exited, 0);
    const events = run.events();
    assert.ok(events.some((e) => e.event === 'progress'));
    const done = events.find((e) => e.event === 'done');
    assert.equal(done?.progress, 1);
    assert.deepEqual(diffTrees(seedDir, dir), []);
  });

  test('Ctrl-C stops within 2 s and leaves resume data behind', async () => {
    const dir = join(tmp.path, 'sigint');
    const run = startGet(dir);
    await waitForProgress(run.events, 512 * 1024, 15_000);
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const code = await run.exited;
    assert.ok(Date.now() - t0 < 2000, `exited in ${Date.now() - t0} ms`);
    assert.equal(code, 130);
    // State lives outside the download folder, in the session's state folder (fs-storage-factory).
    const folderId = createHash('sha1').update(resolve(dir)).digest('hex').slice(0, 16);
    assert.ok(
      readdirSync(join(defaultStateDir(), 'torrents')).some((f) => f.endsWith(`-${folderId}.resume`)),
      'resume data saved',
    );
    assert.ok(!existsSync(join(dir, '.peerdrop')), 'nothing of ours in the download folder');
  });

  test('after kill -9 a restart downloads only what was not verified before', async () => {
    const dir = join(tmp.path, 'kill9');
    const first = startGet(dir);
    await waitForProgress(first.events, 3 * 1024 * 1024, 20_000);
    await new Promise((r) => setTimeout(r, 2500)); // let a periodic resume save happen
    first.child.kill('SIGKILL');
    await first.exited;
    const second = startGet(dir);
    assert.equal(await second.exited, 0);
    const done = second.events().find((e) => e.event === 'done');
    assert.ok(
      done && (done.downloadedBytes ?? SIZE) < SIZE - 2 * 1024 * 1024,
      `re-downloaded ${done?.downloadedBytes} bytes`,
    );
    assert.deepEqual(diffTrees(seedDir, dir), []);
  });

  test('accepts a search result as JSON on stdin (`peerdrop search --json | peerdrop get -`)', async () => {
    const dir = join(tmp.path, 'stdin');
    const magnet = `${magnetFromMetainfo(parseMetainfo(readFileSync(torrentPath)))}&x.pe=127.0.0.1:${seeder.port}`;
    const res = await runCli(['get', '-', '--dir', dir, '--host', '127.0.0.1'], {
      input: JSON.stringify([{ name: 'movie.bin', magnet, seeders: 1, leechers: 0 }]),
      timeoutMs: 30_000,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(diffTrees(seedDir, dir), []);
    const bad = await runCli(['get', '-'], { input: '{"name":"x"}' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no "magnet" field/);
  });

  test('bad input gives one line on stderr and a non-zero exit', async () => {
    const missing = await runCli(['get', join(tmp.path, 'nope.torrent')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.torrent: no such file/);
    assert.equal(missing.stderr.trim().split('\n').length, 1);
    const badFiles = await runCli(['get', torrentPath, '--files', 'x-y']);
    assert.equal(badFiles.code, 2);
    assert.match(badFiles.stderr, /--files/);
    const badMagnet = await runCli(['get', 'magnet:?xt=urn:btih:1234']);
    assert.equal(badMagnet.code, 1);
    assert.match(badMagnet.stderr, /MAGNET_/);
    assert.ok(!existsSync(join(tmp.path, 'x')));
  });
});
