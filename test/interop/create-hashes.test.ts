import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { infoHashV1 } from '../../src/metainfo/info-hash.js';
import { parseMetainfo } from '../../src/metainfo/parse.js';
import { toHex } from '../../src/util/bytes.js';
import { runCli } from '../helpers/cli.js';
import { type FileSpec, standardTree, writeTree } from '../helpers/content.js';
import { REAL_CLIENTS, skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `peerdrop create` gives the same info-hashes as the reference tools: mktorrent for v1 (its
 * file order, empty files included) and libtorrent 2.0.8 for v2 and hybrid (file tree order,
 * BEP 47 padding). libtorrent's v1 multi-file order follows the directory listing, so v1 is
 * compared with mktorrent only.
 */

const LT_SCRIPT = `
import json, os, sys
import libtorrent as lt
path, piece = os.path.abspath(sys.argv[1]), int(sys.argv[2])
out = {}
for name, flags in (('v2', lt.create_torrent.v2_only), ('hybrid', 0)):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    t = lt.create_torrent(fs, piece, flags=flags)
    lt.set_piece_hashes(t, os.path.dirname(path))
    h = lt.torrent_info(lt.bencode(t.generate())).info_hashes()
    out[name] = {'v1': str(h.v1) if h.has_v1() else None, 'v2': str(h.v2) if h.has_v2() else None}
print(json.dumps(out))
`;

const tmp = tempDir('peerdrop-create-interop-');
after(() => tmp.cleanup());

/** The standard tree plus ordering traps (`a.txt` < `a/b` by bytes, not by component) and NULs. */
function interopTree(pieceLength: number): FileSpec[] {
  return [
    ...standardTree(pieceLength),
    { path: 'a.txt', size: 10 },
    { path: 'a-b', size: 1 },
    { path: 'a/b', size: 2 * pieceLength },
    { path: 'a/c/d.bin', size: pieceLength + 16384 },
    { path: '.hidden', size: 33 },
  ];
}

function mktorrentHash(dir: string, pieceLength: number): string {
  const out = join(tmp.path, `mk-${pieceLength}.torrent`);
  rmSync(out, { force: true }); // mktorrent never overwrites
  const r = spawnSync(
    REAL_CLIENTS.mktorrent.bin,
    ['-l', String(Math.log2(pieceLength)), '-t', '2', '-o', out, dir],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  return toHex(infoHashV1(parseMetainfo(readFileSync(out), { unsafePaths: 'sanitize' }).infoBytes));
}

function libtorrentHashes(
  path: string,
  pieceLength: number,
): Record<'v2' | 'hybrid', { v1: string | null; v2: string | null }> {
  const script = join(tmp.path, 'lt-create.py');
  writeFileSync(script, LT_SCRIPT);
  const r = spawnSync(REAL_CLIENTS.libtorrent.bin, [script, path, String(pieceLength)], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function peerdropHashes(
  path: string,
  pieceLength: number,
  flag?: string,
): Promise<{ infoHash: string | null; infoHashV2: string | null }> {
  const out = join(tmp.path, `pd-${pieceLength}-${flag ?? 'v1'}.torrent`);
  const args = ['create', path, '--piece-length', String(pieceLength), '-o', out, '--force', '--json'];
  const r = await runCli(flag ? [...args, flag] : args, { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

for (const pieceLength of [32768, 65536]) {
  describe(`create interop, piece length ${pieceLength}`, () => {
    const dir = join(tmp.path, `tree-${pieceLength}`);
    writeTree(dir, interopTree(pieceLength), pieceLength);
    // libtorrent writes BEP 47 attr "x" for executable files in v2/hybrid; mktorrent ignores it.
    chmodSync(join(dir, 'a-b'), 0o755);
    const single = join(dir, 'z-last.bin');

    test('v1 folder info-hash equals mktorrent', { skip: skipUnless('mktorrent') }, async () => {
      assert.equal((await peerdropHashes(dir, pieceLength)).infoHash, mktorrentHash(dir, pieceLength));
    });

    test('v1 single-file info-hash equals mktorrent', { skip: skipUnless('mktorrent') }, async () => {
      assert.equal((await peerdropHashes(single, pieceLength)).infoHash, mktorrentHash(single, pieceLength));
    });

    test('v2 and hybrid info-hashes equal libtorrent, folder and single file', {
      skip: skipUnless('libtorrent'),
    }, async () => {
      for (const path of [dir, single]) {
        const lt = libtorrentHashes(path, pieceLength);
        const v2 = await peerdropHashes(path, pieceLength, '--v2');
        assert.deepEqual([v2.infoHash, v2.infoHashV2], [lt.v2.v1, lt.v2.v2], `v2 ${path}`);
        const hybrid = await peerdropHashes(path, pieceLength, '--hybrid');
        assert.deepEqual(
          [hybrid.infoHash, hybrid.infoHashV2],
          [lt.hybrid.v1, lt.hybrid.v2],
          `hybrid ${path}`,
        );
      }
    });
  });
}
