import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encode } from '../src/bencode/index.js';
import { loadOrCreateIdentity } from '../src/index-server/identity.js';
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

  // Another publisher, with a key of its own: the index (not the CLI) refuses.
  loadOrCreateIdentity(join(dir.path, 'other'));
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

test('publish --tag Linux works: tags are canonicalised before signing', async () => {
  const pub = await runCli(
    ['publish', torrentFile, '--index', url, '--tag', 'Linux', '--tag', ' LINUX ', '--tag', 'Sea Birds'],
    { env },
  );
  assert.equal(pub.code, 0, pub.stderr);
  const stored = (await (await fetch(new URL(`api/entries/${infoHash}`, url))).json()) as {
    entry: { tags: string[]; title: string };
  };
  assert.deepEqual(stored.entry.tags, ['linux', 'sea birds']);
});

test('publishing an existing entry again keeps its title, description, tags and category', async () => {
  const first = await runCli(
    [
      'publish',
      torrentFile,
      '--index',
      url,
      '--title',
      'Kept Title',
      '--description',
      'kept description',
      '--tag',
      'kept',
      '--category',
      'Books',
    ],
    { env },
  );
  assert.equal(first.code, 0, first.stderr);
  const again = await runCli(['publish', torrentFile, '--index', url], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^updated/);
  const got = async () =>
    (
      (await (await fetch(new URL(`api/entries/${infoHash}`, url))).json()) as {
        entry: { title: string; description: string; tags: string[]; category: string };
      }
    ).entry;
  const e = await got();
  assert.equal(e.title, 'Kept Title');
  assert.equal(e.description, 'kept description');
  assert.deepEqual(e.tags, ['kept']);
  assert.equal(e.category, 'books');
  // A given option still replaces just that field.
  await runCli(['publish', torrentFile, '--index', url, '--title', 'New Title'], { env });
  const e2 = await got();
  assert.equal(e2.title, 'New Title');
  assert.deepEqual(e2.tags, ['kept']);
});

test('an invalid --category is refused with one line and exit 2, before any request', async () => {
  for (const bad of ['movies', 'DROP TABLE', '']) {
    const r = await runCli(['publish', torrentFile, '--index', 'http://127.0.0.1:1/', '--category', bad], {
      env,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /--category must be one of audio, video, software/);
  }
});

test('a refused character in --title is reported before anything is sent', async () => {
  const r = await runCli(['publish', torrentFile, '--index', url, '--title', 'evil\u202etxt.exe'], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /title contains a bidi control character \(U\+202E\) \(ENTRY_INVALID\)/);
  assert.ok(!r.stderr.includes('\u202e'));
});

test('search with -excluded words (the documented syntax) and quoted phrases', async () => {
  await runCli(['publish', torrentFile, '--index', url, '--title', 'Gannet Colony Survey'], { env });
  const hit = await runCli(['search', 'gannet', '-movie', '--index', url, '--json'], { env });
  assert.equal(hit.code, 0, hit.stderr);
  assert.equal((JSON.parse(hit.stdout) as unknown[]).length, 1);
  const first = await runCli(['search', '-movie', 'gannet', '--json', '--index', url], { env });
  assert.equal(first.code, 0, first.stderr);
  assert.equal((JSON.parse(first.stdout) as unknown[]).length, 1);
  const excluded = await runCli(['search', 'gannet', '-colony', '--index', url, '--json'], { env });
  assert.equal(excluded.code, 0, excluded.stderr);
  assert.deepEqual(JSON.parse(excluded.stdout), []);
  const phrase = await runCli(['search', 'colony survey', '--index', url, '--json'], { env });
  assert.equal((JSON.parse(phrase.stdout) as unknown[]).length, 1);
  const wrongOrder = await runCli(['search', 'survey colony', '--index', url, '--json'], { env });
  assert.deepEqual(JSON.parse(wrongOrder.stdout), []);
  const typo = await runCli(['search', 'gannet', '--categroy', 'video', '--index', url], { env });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown option '--categroy'/);
});
