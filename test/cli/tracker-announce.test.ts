/**
 * The CLI against its own tracker (issue 13), end to end with the tracker as the only peer
 * source: `peerdrop tracker` on a port that fetch() refuses (6665–6669, 6000, 10080: the
 * Fetch standard's "bad ports") is announced to all the same; a plain `get` tells the tracker
 * `completed` before it exits, and `get --seed` at once rather than at the next interval
 * (1800 s here). And peerdrop's state never lands in users' folders nor in a new torrent.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { magnetFromMetainfo, parseMetainfo } from '../../src/metainfo/index.js';
import { Session } from '../../src/session/session.js';
import { CLI_PATH, runCli } from '../helpers/cli.js';
import { startProcess } from '../helpers/process.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent, fixtureBytes } from '../helpers/torrent-fixtures.js';

const tmp = tempDir('peerdrop-cli-tracker-');
/** Ports in the Fetch standard's blocked list (undici's fetch refuses to connect to them). */
const BLOCKED_PORTS = [6667, 6666, 6668, 6669, 6665, 6000, 10080];
const data = fixtureBytes(256 * 1024, 21);
const torrentPath = join(tmp.path, 'report.torrent');
const seedDir = join(tmp.path, 'seed');
let tracker: ReturnType<typeof startProcess>;
let seeder: Session;
let statsUrl = '';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

interface Stats {
  announces: { http: { started: number; completed: number; stopped: number } };
}

before(async () => {
  let port: number | undefined;
  for (const p of BLOCKED_PORTS) if (await isFree(p)) port ??= p;
  assert.ok(port !== undefined, `every blocked port is in use: ${BLOCKED_PORTS.join(', ')}`);
  // fetch() itself refuses this port: the /stats reads below go through node:http instead.
  statsUrl = `http://127.0.0.1:${port}/stats`;
  tracker = startProcess(process.execPath, [
    CLI_PATH,
    'tracker',
    '--http-port',
    String(port),
    '--udp-port',
    'off',
    '--interval',
    '1800',
    '--stats-rate-limit',
    '0',
  ]);
  const announce = (await tracker.waitFor(/announce (http:\/\/\S+)/, 15_000))[1]!;
  assert.equal(announce, `http://127.0.0.1:${port}/announce`);
  mkdirSync(seedDir);
  writeFileSync(join(seedDir, 'report.bin'), data);
  const torrent = buildTorrent([{ path: ['report.bin'], data }], {
    name: 'report.bin',
    single: true,
    outer: { announce },
  });
  writeFileSync(torrentPath, torrent);
  seeder = new Session({
    host: '127.0.0.1',
    udp: false,
    lsd: false,
    stateDir: join(tmp.path, 'seeder-state'),
  });
  await seeder.add(torrent, { dir: seedDir });
  // The seeder's own announce goes first, so that the tracker's first answer to `get` names it.
  const deadline = Date.now() + 10_000;
  while ((await readStats()).announces.http.started === 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
});

after(async () => {
  await seeder?.close();
  await tracker?.stop();
  tmp.cleanup();
});

/** /stats over node:http (fetch() refuses the blocked port, which is the point of the test). */
async function readStats(): Promise<Stats> {
  const { get } = await import('node:http');
  return new Promise((resolve, reject) => {
    get(statsUrl, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve(JSON.parse(body) as Stats));
    }).on('error', reject);
  });
}

const onlyTracker = ['--host', '127.0.0.1', '--no-dht', '--no-lsd', '--no-pex'];

test('a tracker on a fetch-blocked port: get finds the seeder through it and announces completed', async () => {
  await assert.rejects(fetch(statsUrl), /fetch failed/, 'the contrast: fetch() refuses this port');
  const dir = join(tmp.path, 'plain');
  const r = await runCli(['get', torrentPath, '--dir', dir, ...onlyTracker], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /peer sources: tracker\n/);
  assert.doesNotMatch(r.stderr, /warning|bad port/);
  assert.deepEqual(readdirSync(dir), ['report.bin']);
  const s = await readStats();
  assert.equal(s.announces.http.completed, 1, JSON.stringify(s.announces));
  assert.ok(s.announces.http.stopped >= 1, 'and stopped on exit');
});

test('get --seed announces completed as soon as the download is done', async () => {
  const dir = join(tmp.path, 'seeding');
  const before = (await readStats()).announces.http.completed;
  const child = spawn(
    process.execPath,
    [CLI_PATH, 'get', torrentPath, '--dir', dir, '--seed', '--json', ...onlyTracker],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const deadline = Date.now() + 20_000;
    while (!out.includes('"event":"done"') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /"event":"done"/, 'the download completed');
    let completed = before;
    const doneAt = Date.now();
    while (completed === before && Date.now() - doneAt < 5000) {
      await new Promise((r) => setTimeout(r, 200));
      completed = (await readStats()).announces.http.completed;
    }
    assert.equal(completed, before + 1, 'completed announced while still running (interval is 1800 s)');
    assert.equal(child.exitCode, null, 'still seeding');
  } finally {
    child.kill('SIGKILL');
  }
  assert.ok(!existsSync(join(dir, '.peerdrop')) && !existsSync(join(tmp.path, '.peerdrop')));
});

test('a magnet without tr= finds the seeder through get --tracker; a bad --tracker or --files is refused', async () => {
  const magnet = magnetFromMetainfo(parseMetainfo(readFileSync(torrentPath))).replace(/&tr=[^&]*/g, '');
  assert.doesNotMatch(magnet, /tr=/);
  const announce = statsUrl.replace(/stats$/, 'announce');
  const [good, bad, outOfRange] = await Promise.all([
    runCli(['get', magnet, '--dir', join(tmp.path, 'magnet'), ...onlyTracker, '--tracker', announce], {
      timeoutMs: 30_000,
    }),
    runCli(['get', magnet, '--tracker', 'notaurl']),
    // A magnet's file count is known with its metadata only: --files is checked then.
    runCli(
      [
        'get',
        magnet,
        '--dir',
        join(tmp.path, 'range'),
        ...onlyTracker,
        '--tracker',
        announce,
        '--files',
        '3',
      ],
      {
        timeoutMs: 30_000,
      },
    ),
  ]);
  assert.equal(outOfRange.code, 2, outOfRange.stderr);
  assert.match(
    outOfRange.stderr.trimEnd().split('\n').at(-1)!,
    /^peerdrop: --files: 3 out of range; report\.bin has 1 file/,
  );
  assert.ok(!existsSync(join(tmp.path, 'range', 'report.bin')), 'nothing downloaded');
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stderr, /peer sources: tracker\n/);
  assert.deepEqual(readFileSync(join(tmp.path, 'magnet', 'report.bin')), Buffer.from(data));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^peerdrop: --tracker: "notaurl" is not a tracker URL/);
});

test('no .peerdrop state in download or seeded folders; create leaves an old one out', async () => {
  for (const dir of [tmp.path, seedDir, ...['plain', 'seeding', 'magnet'].map((d) => join(tmp.path, d))])
    assert.ok(!existsSync(join(dir, '.peerdrop')), `${dir}/.peerdrop`);
  // A folder that an older peerdrop wrote its state into.
  const folder = join(tmp.path, 'album');
  mkdirSync(join(folder, '.peerdrop', 'torrents'), { recursive: true });
  mkdirSync(join(folder, 'disc1'));
  writeFileSync(join(folder, 'disc1', 'track.flac'), 'music');
  writeFileSync(join(folder, '.peerdrop', 'torrents', 'x.resume'), 'state');
  writeFileSync(join(folder, '.hidden-but-mine'), 'kept');
  const r = await runCli(['create', folder, '-o', join(tmp.path, 'album.torrent'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }).files.map((f) => f.path);
  assert.deepEqual(files.sort(), ['album/.hidden-but-mine', 'album/disc1/track.flac']);
});
