/**
 * Publishing and searching as a newcomer does it (issue 13): the first `publish` says once where
 * the new publisher key is and why it matters, the search table has a magnet column whose links
 * line up under CJK titles (display width, not string length), and the README says where keys
 * and state live and how to install the library. (Keeping an entry's fields on re-publish,
 * `--category` checks and `-word` exclusions are in test/index-server-cli.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { displayWidth } from '../../src/cli/text-width.js';
import { startIndexServer } from '../../src/index-server/http-api.js';
import { SqliteIndexStore } from '../../src/index-server/sqlite-store.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent, fixtureBytes } from '../helpers/torrent-fixtures.js';

const tmp = tempDir('peerdrop-cli-publish-');
const home = join(tmp.path, 'home');
const env = { PEERDROP_HOME: home };
let store: SqliteIndexStore;
let server: Awaited<ReturnType<typeof startIndexServer>>;

function torrentFile(name: string, seed: number): string {
  const data = fixtureBytes(20_000, seed);
  const file = join(tmp.path, `${seed}.torrent`);
  writeFileSync(file, buildTorrent([{ path: [name], data }], { name, single: true }));
  return file;
}

before(async () => {
  store = new SqliteIndexStore({ file: join(tmp.path, 'index.db') });
  server = await startIndexServer({ store, port: 0, bind: '127.0.0.1' });
});

after(async () => {
  await server.close();
  await store.close();
  tmp.cleanup();
});

test('the first publish says where the new key is and that it must be kept; later ones do not', async () => {
  const keyFile = join(home, 'identity.json');
  const first = await runCli(
    ['publish', torrentFile('tokyo.jpg', 1), '--index', server.url, '--title', '東京の夜景 photos'],
    { env },
  );
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, new RegExp(`created your publisher key in ${keyFile} `));
  assert.match(first.stderr, /back it up: only this key can update or unpublish/);
  assert.match(first.stderr, /PEERDROP_HOME/);
  assert.ok(readFileSync(keyFile).length > 0);
  const second = await runCli(
    ['publish', torrentFile('lisbon.jpg', 2), '--index', server.url, '--title', 'Lisbon photos'],
    { env },
  );
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /publisher key/, 'told once only');
});

test('the search table has a magnet column, aligned under CJK titles', async () => {
  const [table, json] = await Promise.all([
    runCli(['search', 'photos', '--index', server.url], { env }),
    runCli(['search', 'photos', '--index', server.url, '--json'], { env }),
  ]);
  assert.equal(table.code, 0, table.stderr);
  const results = JSON.parse(json.stdout) as { title: string; magnet: string }[];
  assert.equal(results.length, 2, json.stdout);
  const [header, ...rows] = table.stdout.trimEnd().split('\n');
  assert.match(header!, /SEED +LEECH +SIZE +NAME +MAGNET$/);
  const magnetColumn = displayWidth(header!.slice(0, header!.indexOf('MAGNET')));
  assert.equal(rows.length, 2);
  for (const result of results) {
    const row = rows.find((r) => r.includes(result.title));
    assert.ok(row, `a row for ${result.title}: ${table.stdout}`);
    const at = row.indexOf('magnet:');
    assert.equal(row.slice(at), result.magnet, 'the whole magnet link, last on the row');
    assert.equal(displayWidth(row.slice(0, at)), magnetColumn, `aligned: ${JSON.stringify(row)}`);
  }
  const cjk = rows.find((r) => r.includes('東京'))!;
  assert.notEqual(cjk.indexOf('magnet:'), magnetColumn, 'CJK characters are two columns wide');
});

test('the README says where keys and state live and how to install the library', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const needle of [
    '$PEERDROP_HOME/identity.json',
    'without it you can never unpublish',
    '$PEERDROP_STATE_DIR',
    'never inside a download folder',
    'npm install peerdrop',
    "import { Session, seedFiles } from 'peerdrop'",
    '--download-missing',
  ])
    assert.ok(readme.includes(needle), `README mentions ${needle}`);
});
