import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseMetainfo } from '../../src/metainfo/parse.js';
import { toHex } from '../../src/util/bytes.js';
import { standardTree, writeTree } from '../helpers/content.js';
import { REAL_CLIENTS, skipUnless } from '../helpers/real-clients.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * peerdrop reads torrents made by real tools (mktorrent, transmission-create, libtorrent v1,
 * v2 and hybrid) and reports the same info-hashes and file lists as libtorrent itself.
 */

const PIECE = 32 * 1024; // mktorrent's smallest piece (-l 15)
const TIMEOUT_MS = 30_000;
const skip = skipUnless('mktorrent', 'libtorrent', 'transmissionCreate');
const PY = REAL_CLIENTS.libtorrent.bin;

const CREATE_PY = `
import sys, libtorrent as lt
src, parent, out, flag, piece = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
flags = {'v1': lt.create_torrent.v1_only, 'v2': lt.create_torrent.v2_only, 'hybrid': 0}[flag]
fs = lt.file_storage()
lt.add_files(fs, src)
ct = lt.create_torrent(fs, piece, flags)
ct.add_tracker('http://127.0.0.1:1/announce')
lt.set_piece_hashes(ct, parent)
open(out, 'wb').write(lt.bencode(ct.generate()))
`;

const READ_PY = `
import sys, json, libtorrent as lt
out = []
for path in sys.argv[1:]:
    ti = lt.torrent_info(path)
    ih = ti.info_hashes()
    fs = ti.files()
    files = [[fs.file_path(i), fs.file_size(i)] for i in range(fs.num_files())
             if not fs.file_flags(i) & lt.file_storage.flag_pad_file]
    out.append({'path': path, 'v1': str(ih.v1) if ih.has_v1() else None,
                'v2': str(ih.v2) if ih.has_v2() else None, 'name': ti.name(),
                'pieces': ti.num_pieces(), 'pieceLength': ti.piece_length(), 'files': files})
print(json.dumps(out))
`;

interface LtView {
  path: string;
  v1: string | null;
  v2: string | null;
  name: string;
  pieces: number;
  pieceLength: number;
  files: [string, number][];
}

describe('reading torrents made by real tools', { skip }, () => {
  const tmp = tempDir();
  const torrents = new Map<string, string>();
  let views = new Map<string, LtView>();
  after(tmp.cleanup);

  function run(cmd: string, args: readonly string[]): void {
    execFileSync(cmd, args, { timeout: TIMEOUT_MS, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  before(() => {
    const src = join(tmp.path, 'src');
    const tree = join(src, 'tree');
    const out = join(tmp.path, 'out');
    mkdirSync(out);
    writeTree(tree, [
      ...standardTree(PIECE),
      { path: 'nul-bytes.bin', size: 3 * PIECE },
      { path: 'Z-upper.bin', size: 1 },
    ]);
    // A file of only NUL bytes (writeTree starts every file with one; this one is all zeros).
    writeFileSync(join(tree, 'zeros.bin'), new Uint8Array(PIECE + 7));
    const create = join(tmp.path, 'create.py');
    writeFileSync(create, CREATE_PY);
    const add = (label: string, file: string) => torrents.set(label, file);
    const mk = (label: string, target: string) => {
      const file = join(out, `${label}.torrent`);
      run('/usr/bin/mktorrent', ['-l', '15', '-a', 'http://127.0.0.1:1/announce', '-o', file, target]);
      add(label, file);
    };
    mk('mktorrent-multi', tree);
    mk('mktorrent-single', join(tree, 'z-last.bin'));
    const tc = join(out, 'transmission.torrent');
    run(REAL_CLIENTS.transmissionCreate.bin, [
      '-o',
      tc,
      '-s',
      String(PIECE / 1024),
      '-t',
      'http://127.0.0.1:1/a',
      tree,
    ]);
    add('transmission-multi', tc);
    for (const version of ['v1', 'v2', 'hybrid']) {
      for (const [kind, target] of [
        ['multi', tree],
        ['single', join(tree, 'nested', 'deeper', 'b.bin')],
      ] as const) {
        const file = join(out, `lt-${version}-${kind}.torrent`);
        const parent = kind === 'multi' ? src : join(tree, 'nested', 'deeper');
        run(PY, [create, target, parent, file, version, String(PIECE)]);
        add(`libtorrent-${version}-${kind}`, file);
      }
    }
    const read = join(tmp.path, 'read.py');
    writeFileSync(read, READ_PY);
    const json = execFileSync(PY, [read, ...torrents.values()], { timeout: TIMEOUT_MS, encoding: 'utf8' });
    views = new Map((JSON.parse(json) as LtView[]).map((v) => [v.path, v]));
  });

  const labels = [
    'mktorrent-multi',
    'mktorrent-single',
    'transmission-multi',
    ...['v1', 'v2', 'hybrid'].flatMap((v) => [`libtorrent-${v}-multi`, `libtorrent-${v}-single`]),
  ];
  for (const label of labels) {
    test(`${label}: same info-hashes, pieces and file list as libtorrent`, () => {
      const file = torrents.get(label)!;
      const lt = views.get(file)!;
      const m = parseMetainfo(new Uint8Array(readFileSync(file)));
      assert.equal(m.infoHash ? toHex(m.infoHash) : null, lt.v1);
      assert.equal(m.infoHashV2 ? toHex(m.infoHashV2) : null, lt.v2);
      assert.ok(lt.v1 || lt.v2);
      assert.equal(m.name, lt.name);
      assert.equal(m.pieceLengthBytes, lt.pieceLength);
      assert.equal(m.pieceCount, lt.pieces);
      const ours = m.files
        .filter((f) => !f.attributes.isPadding)
        .map((f) => [f.path.join('/'), f.lengthBytes]);
      assert.deepEqual(ours, lt.files);
      if (label.includes('-v2') || label.includes('hybrid')) assert.ok(m.files.some((f) => f.piecesRoot));
    });
  }

  test('the generated tree has what the issue asks for', () => {
    const lt = views.get(torrents.get('mktorrent-multi')!)!;
    const paths = lt.files.map(([p]) => p);
    assert.ok(
      paths.some((p) => /ünïcødé/.test(p)),
      'a unicode name',
    );
    assert.ok(
      lt.files.some(([, size]) => size === 0),
      'a zero-length file',
    );
    assert.ok(
      paths.some((p) => p.split('/').length >= 4),
      'nested folders',
    );
    assert.ok(
      lt.files.some(([, size]) => size === PIECE - 1) && lt.files.some(([, size]) => size === PIECE + 1),
    );
  });
});
