/**
 * The library as a user installs it (issue 13): the package's main entry loads no server-side
 * store (`pg`, `better-sqlite3`, `node-sqlite3-wasm`), and `seedFiles` makes a torrent of a
 * folder and seeds it so that another session downloads it from the magnet link alone.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Session, seedFiles } from '../src/index.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir('peerdrop-library-');
after(() => tmp.cleanup());

const MAIN_ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url));

test('importing the package main entry loads neither pg nor an SQLite binding', () => {
  // These packages are CommonJS: once loaded (by import or require) they sit in require.cache.
  const script = `
    import { createRequire } from 'node:module';
    const require = createRequire(${JSON.stringify(MAIN_ENTRY)});
    const lib = await import(${JSON.stringify(MAIN_ENTRY)});
    const session = new lib.Session({ host: '127.0.0.1', udp: false });
    await session.close();
    const loaded = () => Object.keys(require.cache)
      .map((k) => /node_modules\\/(pg|better-sqlite3|node-sqlite3-wasm)\\//.exec(k)?.[1])
      .filter(Boolean);
    const before = [...new Set(loaded())];
    await import('pg');  // control: the check does see a store once it is loaded
    console.log(JSON.stringify({ before, after: [...new Set(loaded())] }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  });
  const { before, after: afterPg } = JSON.parse(out) as { before: string[]; after: string[] };
  assert.deepEqual(before, [], `loaded by the main entry: ${before.join(', ')}`);
  assert.deepEqual(afterPg, ['pg'], 'the control import is seen');
});

test('seedFiles seeds a folder; another session downloads it from the magnet link alone', async () => {
  const folder = join(tmp.path, 'holiday');
  mkdirSync(join(folder, 'day1'), { recursive: true });
  const a = Buffer.alloc(200_000, 7);
  const b = Buffer.from('notes\n');
  writeFileSync(join(folder, 'day1', 'a.bin'), a);
  writeFileSync(join(folder, 'b.txt'), b);
  const options = { host: '127.0.0.1', udp: false as const, stateDir: join(tmp.path, 'state') };
  const seeder = new Session({ ...options, stateDir: join(tmp.path, 'state-seeder') });
  const leecher = new Session({ ...options, stateDir: join(tmp.path, 'state-leecher') });
  try {
    const seeded = await seedFiles(seeder, folder, { announceHost: '127.0.0.1' });
    assert.equal(seeded.name, 'holiday');
    assert.equal(seeded.totalLengthBytes, a.length + b.length);
    assert.match(seeded.magnet, /x\.pe=127\.0\.0\.1(:|%3A)\d+/);
    assert.equal(seeded.handle.status().state, 'seeding');
    const dir = join(tmp.path, 'downloads');
    const got = await leecher.add(seeded.magnet, { dir });
    await got.done({ signal: AbortSignal.timeout(20_000) });
    assert.deepEqual(readFileSync(join(dir, 'holiday', 'day1', 'a.bin')), a);
    assert.deepEqual(readFileSync(join(dir, 'holiday', 'b.txt')), b);
    writeFileSync(join(tmp.path, 'empty'), '');
    await assert.rejects(seedFiles(seeder, join(tmp.path, 'empty')), /nothing to seed/);
  } finally {
    await Promise.all([seeder.close(), leecher.close()]);
  }
});
