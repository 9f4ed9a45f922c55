import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { type BDict, decode } from '../bencode/index.js';
import {
  buildTorrent,
  compareTreePaths,
  compareV1Paths,
  layoutFiles,
  sortFilesForVersion,
  TorrentBuildError,
} from './build.js';
import { fileMerkle } from './merkle.js';
import { parseMetainfo } from './parse.js';

const PL = 32768;
const sha1 = (n: number) => new Uint8Array(20 * n).fill(7);

function infoOf(torrent: Uint8Array): BDict {
  return (decode(torrent) as BDict).get('info') as BDict;
}

describe('buildTorrent v1', () => {
  test('a single file has only name, piece length, pieces and length in info', () => {
    const t = buildTorrent({
      name: 'a.bin',
      version: 'v1',
      isSingleFile: true,
      files: [{ path: ['a.bin'], lengthBytes: PL + 1 }],
      pieceLengthBytes: PL,
      pieceHashes: sha1(2),
      options: { comment: 'c', createdBy: 'x', creationDate: 5, announceTiers: [['http://t/a']] },
    });
    assert.deepEqual([...infoOf(t.torrentBytes).keys()], ['length', 'name', 'piece length', 'pieces']);
    const outer = decode(t.torrentBytes) as BDict;
    assert.deepEqual([...outer.keys()], ['announce', 'comment', 'created by', 'creation date', 'info']);
    assert.deepEqual(t.infoHash, new Uint8Array(createHash('sha1').update(t.infoBytes).digest()));
    assert.equal(t.infoHashV2, null);
  });

  test('multi-file lists files in the given order with private and source inside info', () => {
    const t = buildTorrent({
      name: 'dir',
      version: 'v1',
      isSingleFile: false,
      files: [
        { path: ['a'], lengthBytes: 10 },
        { path: ['empty'], lengthBytes: 0 },
        { path: ['sub', 'b'], lengthBytes: 5, isExecutable: true },
      ],
      pieceLengthBytes: PL,
      pieceHashes: sha1(1),
      options: { isPrivate: true, source: 'SRC', announceTiers: [['http://t/a'], ['udp://u:1']] },
    });
    const info = infoOf(t.torrentBytes);
    assert.deepEqual([...info.keys()], ['files', 'name', 'piece length', 'pieces', 'private', 'source']);
    const m = parseMetainfo(t.torrentBytes);
    assert.deepEqual(
      m.files.map((f) => f.path.join('/')),
      ['dir/a', 'dir/empty', 'dir/sub/b'],
    );
    assert.equal(m.isPrivate, true);
    assert.deepEqual(m.announceTiers, [['http://t/a'], ['udp://u:1']]);
    // v1 never writes attributes (mktorrent doesn't), so the exec bit can't change the hash.
    assert.equal(m.files[2]!.attributes.isExecutable, false);
  });

  test('refuses a pieces string of the wrong size and a bad piece length', () => {
    const base = {
      name: 'x',
      version: 'v1' as const,
      isSingleFile: true,
      files: [{ path: ['x'], lengthBytes: 3 }],
    };
    assert.throws(
      () => buildTorrent({ ...base, pieceLengthBytes: PL, pieceHashes: sha1(2) }),
      TorrentBuildError,
    );
    assert.throws(
      () => buildTorrent({ ...base, pieceLengthBytes: 1000, pieceHashes: sha1(1) }),
      (e: unknown) => e instanceof TorrentBuildError && e.code === 'BUILD_BAD_PIECE_LENGTH',
    );
  });
});

describe('buildTorrent v2 and hybrid', () => {
  const data = [new Uint8Array(PL + 7).fill(1), new Uint8Array(0), new Uint8Array(100).fill(2)];
  const paths = [['a'], ['b', 'empty'], ['c']];
  const files = data.map((d, i) => {
    const m = d.length > 0 ? fileMerkle(d, PL) : undefined;
    return {
      path: paths[i]!,
      lengthBytes: d.length,
      ...(m ? { piecesRoot: m.root } : {}),
      ...(m && m.pieceLayer.length > 0 ? { pieceLayer: m.pieceLayer } : {}),
    };
  });

  test('hybrid pads after every non-empty unaligned file, the last one too, as libtorrent does', () => {
    const layout = layoutFiles([PL + 7, 0, 100], PL, 'hybrid');
    assert.deepEqual(layout.padAfter, [PL - 7, 0, PL - 100]);
    assert.deepEqual(layout.offsets, [0, 2 * PL, 2 * PL]);
    const t = buildTorrent({
      name: 'h',
      version: 'hybrid',
      isSingleFile: false,
      files,
      pieceLengthBytes: PL,
      pieceHashes: sha1(3),
    });
    const m = parseMetainfo(t.torrentBytes);
    assert.deepEqual(
      m.files.map((f) => [f.path.join('/'), f.lengthBytes, f.attributes.isPadding]),
      [
        ['h/a', PL + 7, false],
        ['h/.pad/32761', PL - 7, true],
        ['h/b/empty', 0, false],
        ['h/c', 100, false],
        ['h/.pad/32668', PL - 100, true],
      ],
    );
    assert.ok(m.infoHash && m.infoHashV2);
    assert.deepEqual(m.infoHashV2, t.infoHashV2);
  });

  test('a single file is never padded', () => {
    assert.deepEqual(layoutFiles([100], PL, 'hybrid').padAfter, [0]);
  });

  test('v2 has meta version, file tree and piece layers, and no v1 keys', () => {
    const t = buildTorrent({ name: 'v', version: 'v2', isSingleFile: false, files, pieceLengthBytes: PL });
    assert.deepEqual(
      [...infoOf(t.torrentBytes).keys()],
      ['file tree', 'meta version', 'name', 'piece length'],
    );
    const m = parseMetainfo(t.torrentBytes);
    assert.equal(m.version, 'v2');
    assert.equal(m.pieceLayers.size, 1);
    assert.equal(t.infoHash, null);
  });
});

describe('file order', () => {
  const names = [['a', 'b'], ['a.txt'], ['a-b'], ['a', 'c', 'd'], ['ab'], ['B', 'x'], ['Z']];
  test('v1 orders by full path bytes (mktorrent)', () => {
    const sorted = sortFilesForVersion(
      names.map((path) => ({ path })),
      'v1',
    ).map((f) => f.path.join('/'));
    assert.deepEqual(sorted, ['B/x', 'Z', 'a-b', 'a.txt', 'a/b', 'a/c/d', 'ab']);
    assert.ok(compareV1Paths(['a.txt'], ['a', 'b']) < 0);
  });
  test('v2 and hybrid order component by component (the file tree)', () => {
    const sorted = sortFilesForVersion(
      names.map((path) => ({ path })),
      'hybrid',
    ).map((f) => f.path.join('/'));
    assert.deepEqual(sorted, ['B/x', 'Z', 'a/b', 'a/c/d', 'a-b', 'a.txt', 'ab']);
    assert.ok(compareTreePaths(['a', 'b'], ['a.txt']) < 0);
  });
});
