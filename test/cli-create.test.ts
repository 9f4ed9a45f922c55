import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseMetainfo } from '../src/metainfo/parse.js';
import { toHex } from '../src/util/bytes.js';
import { runCli } from './helpers/cli.js';
import { standardTree, writeTree } from './helpers/content.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir('peerdrop-cli-create-');
after(() => tmp.cleanup());
const root = join(tmp.path, 'share');
writeTree(root, standardTree(32768));

describe('peerdrop create', () => {
  test('--json prints one object whose hashes match the written torrent', async () => {
    const r = await runCli(
      [
        'create',
        root,
        '--hybrid',
        '--piece-length',
        '32KiB',
        '--tracker',
        'http://127.0.0.1:1/a',
        '--private',
        '--source',
        'S',
        '--json',
      ],
      { cwd: tmp.path },
    );
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.path, join(tmp.path, 'share.torrent'));
    const m = parseMetainfo(readFileSync(json.path));
    assert.equal(json.infoHash, toHex(m.infoHash!));
    assert.equal(json.infoHashV2, toHex(m.infoHashV2!));
    assert.equal(json.name, 'share');
    assert.equal(json.pieceLength, 32768);
    assert.equal(json.pieceCount, m.pieceCount);
    assert.equal(json.totalLength, m.totalLengthBytes);
    assert.equal(json.files[0].path, 'share/a.bin');
    assert.equal(json.files.length, 5);
    assert.match(json.magnet, /xt=urn:btih:[0-9a-f]{40}&xt=urn:btmh:1220[0-9a-f]{64}/);
    assert.equal(m.isPrivate, true);
    assert.equal(m.source, 'S');
  });

  test('refuses to overwrite without --force, and overwrites with it', async () => {
    const out = join(tmp.path, 'o.torrent');
    assert.equal((await runCli(['create', root, '-o', out])).code, 0);
    const again = await runCli(['create', root, '-o', out]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /exists.*--force/);
    assert.equal(again.stderr.trim().split('\n').length, 1);
    assert.equal((await runCli(['create', root, '-o', out, '--force'])).code, 0);
  });

  test('bad input exits non-zero with one line on stderr', async () => {
    const cases: string[][] = [
      ['create', join(tmp.path, 'missing')],
      ['create', root, '--v2', '--hybrid'],
      ['create', root, '--piece-length', '1000'],
      ['create', root, '--piece-length', 'lots'],
      ['create', root, '-o', join(tmp.path, 'no-such-dir', 'x.torrent')],
    ];
    for (const args of cases) {
      const r = await runCli(args, { cwd: tmp.path });
      assert.notEqual(r.code, 0, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
    assert.equal(existsSync(join(tmp.path, 'missing.torrent')), false);
  });
});
