import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encode } from '../src/bencode/index.js';
import { CLI_PATH, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

// End to end through the built CLI: `peerdrop index` on a free port, then publish, search, unpublish.
const dir = tempDir('peerdrop-index-cli-');
const env = { PEERDROP_HOME: join(dir.path, 'home') };
let server: ChildProcess;
let url = '';
let torrentFile = '';
let infoHash = '';

function tinyTorrent(): { bytes: Uint8Array; infoHash: string } {
  const content = Buffer.from('peerdrop index test\u0000with a NUL byte\n');
  const info = {
    length: content.length,
    name: 'gannet-survey.txt',
    'piece length': 16384,
    pieces: createHash('sha1').update(content).digest(),
  };
  const infoBytes = encode(info);
  const bytes = encode({ announce: 'http://127.0.0.1:9/announce', info, comment: 'seabirds' });
  return { bytes, infoHash: createHash('sha1').update(infoBytes).digest('hex') };
}

before(async () => {
  const t = tinyTorrent();
  infoHash = t.infoHash;
  torrentFile = join(dir.path, 'gannet.torrent');
  writeFileSync(torrentFile, t.bytes);
  server = spawn(
    process.execPath,
    [CLI_PATH, 'index', '--port', '0', '--db', join(dir.path, 'index.db'), '--scrape-interval', '0'],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`index did not start: ${out}`)), 20_000);
    server.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.on('exit', (code) => reject(new Error(`index exited with ${code}`)));
  });
});

after(() => {
  server?.kill('SIGTERM');
  dir.cleanup();
});

test('publish, search --json, and unpublish through the CLI against a running index', async () => {
  const pub = await runCli(
    [
      'publish',
      torrentFile,
      '--index',
      url,
      '--title',
      'Gannet Survey 2024',
      '--tag',
      'birds',
      '--category',
      'data',
    ],
    { env },
  );
  assert.equal(pub.code, 0, pub.stderr);
  assert.match(pub.stdout, new RegExp(`created ${infoHash}`));

  const found = await runCli(['search', 'gannet', 'survey', '--index', url, '--json'], { env });
  assert.equal(found.code, 0, found.stderr);
  const results = JSON.parse(found.stdout) as Record<string, unknown>[];
  assert.equal(results.length, 1);
  assert.equal(results[0]?.infoHash, infoHash);
  assert.equal(results[0]?.infoHashV2, null);
  assert.equal(results[0]?.name, 'gannet-survey.txt');
  assert.match(String(results[0]?.magnet), new RegExp(`^magnet:\\?xt=urn:btih:${infoHash}`));
  assert.ok('seeders' in (results[0] ?? {}) && 'leechers' in (results[0] ?? {}));

  const table = await runCli(['search', 'gannet', '--index', url], { env });
  assert.match(table.stdout, /Gannet Survey 2024/);

  const again = await runCli(['publish', torrentFile, '--index', url, '--title', 'Gannet Survey (v2)'], {
    env,
  });
  assert.match(again.stdout, /^updated/);

  const other = await runCli(['unpublish', infoHash, '--index', url], {
    env: { PEERDROP_HOME: join(dir.path, 'other') },
  });
  assert.equal(other.code, 1);
  assert.match(other.stderr, /NOT_OWNER/);

  const un = await runCli(['unpublish', infoHash, '--index', url], { env });
  assert.equal(un.code, 0, un.stderr);
  const empty = await runCli(['search', 'gannet', '--index', url, '--json'], { env });
  assert.deepEqual(JSON.parse(empty.stdout), []);
});

test('CLI errors are one line on stderr with a non-zero exit', async () => {
  const noIndex = await runCli(['search', 'x'], { env: { ...env, PEERDROP_INDEX: '' } });
  assert.equal(noIndex.code, 2);
  const badHash = await runCli(['unpublish', 'nothex', '--index', url], { env });
  assert.equal(badHash.code, 2);
  const down = await runCli(['search', 'x', '--index', 'http://127.0.0.1:1/'], { env });
  assert.equal(down.code, 1);
  assert.equal(down.stderr.trim().split('\n').length, 1);
  assert.match(down.stderr, /INDEX_UNAVAILABLE/);
});
