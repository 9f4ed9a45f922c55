import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { buildTorrent, type FixtureFile, fixtureBytes } from '../../test/helpers/torrent-fixtures.js';
import { type BEncodable, decode, encode } from '../bencode/index.js';
import { toHex, utf8 } from '../util/bytes.js';
import { MetainfoError } from './errors.js';
import { parseInfoDictionary, parseMetainfo } from './parse.js';

const PL = 16384;
const multi: FixtureFile[] = [
  { path: ['a.bin'], data: fixtureBytes(PL - 1, 1) },
  { path: ['empty.txt'], data: new Uint8Array(0) },
  { path: ['nested', 'deeper', 'b.bin'], data: fixtureBytes(PL + 1, 2) },
  { path: ['nested', 'ünïcødé 名前.dat'], data: fixtureBytes(3 * PL + 17, 3) },
];

function expectCode(bytes: Uint8Array, code: string, message?: RegExp, options = {}): void {
  assert.throws(
    () => parseMetainfo(bytes, options),
    (err: unknown) => {
      assert.ok(err instanceof MetainfoError, `expected MetainfoError, got ${String(err)}`);
      assert.equal(err.code, code, err.message);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

/** Re-encode a torrent after editing its decoded form (for hostile variants). */
function mutate(
  torrent: Uint8Array,
  edit: (root: Map<string, BEncodable>, info: Map<string, BEncodable>) => void,
) {
  const root = decode(torrent) as Map<string, BEncodable>;
  edit(root, root.get('info') as Map<string, BEncodable>);
  return encode(root);
}

function filesList(info: Map<string, BEncodable>): Map<string, BEncodable>[] {
  return info.get('files') as Map<string, BEncodable>[];
}

describe('parseMetainfo v1', () => {
  test('reads a single-file torrent and hashes the exact info bytes with SHA-1', () => {
    const data = fixtureBytes(2 * PL + 5);
    const t = buildTorrent([{ path: ['one.bin'], data }], { name: 'one.bin', single: true });
    const m = parseMetainfo(t);
    assert.equal(m.version, 'v1');
    assert.equal(m.isSingleFile, true);
    assert.equal(m.name, 'one.bin');
    assert.deepEqual(
      m.files.map((f) => f.path),
      [['one.bin']],
    );
    assert.equal(m.totalLengthBytes, data.length);
    assert.equal(m.pieceCount, 3);
    assert.equal(m.infoHashV2, null);
    const text = Buffer.from(t).toString('latin1');
    const start = text.indexOf('4:infod') + 6;
    assert.deepEqual(m.infoBytes, t.subarray(start, start + m.infoBytes.length));
    assert.equal(toHex(m.infoHash!), createHash('sha1').update(m.infoBytes).digest('hex'));
  });

  test('reads a multi-file torrent: paths start with the name, offsets and totals add up', () => {
    const m = parseMetainfo(buildTorrent(multi, { name: 'tree' }));
    assert.equal(m.isSingleFile, false);
    assert.deepEqual(
      m.files.map((f) => [f.path.join('/'), f.lengthBytes, f.offsetBytes]),
      [
        ['tree/a.bin', PL - 1, 0],
        ['tree/empty.txt', 0, PL - 1],
        ['tree/nested/deeper/b.bin', PL + 1, PL - 1],
        ['tree/nested/ünïcødé 名前.dat', 3 * PL + 17, 2 * PL],
      ],
    );
    assert.equal(m.totalLengthBytes, 5 * PL + 17);
    assert.equal(m.storageLengthBytes, m.totalLengthBytes);
    assert.equal(m.pieceCount, 6);
    assert.equal(m.pieceHashes!.length, 6 * 20);
  });

  test('reads trackers, web seeds, private, comment, dates, nodes and source', () => {
    const t = buildTorrent(multi, {
      info: { private: 1, source: 'SRC' },
      outer: {
        'announce-list': [['http://a/1', 'http://a/2'], [], ['udp://b:80', 'http://a/1']],
        'url-list': 'http://seed/',
        comment: 'hello',
        'created by': 'test',
        'creation date': 1700000000,
        nodes: [['router.example', 6881], ['bad'], ['1.2.3.4', 70000]],
      },
    });
    const m = parseMetainfo(t);
    assert.deepEqual(m.announceTiers, [['http://a/1', 'http://a/2'], ['udp://b:80']]);
    assert.deepEqual(m.urlList, ['http://seed/']);
    assert.equal(m.isPrivate, true);
    assert.equal(m.comment, 'hello');
    assert.equal(m.createdBy, 'test');
    assert.equal(m.creationDate, 1700000000);
    assert.deepEqual(m.nodes, [{ host: 'router.example', port: 6881 }]);
    assert.equal(m.source, 'SRC');
  });

  test('a lone announce is one tier; url-list may be a list', () => {
    const m = parseMetainfo(buildTorrent(multi, { outer: { 'url-list': ['http://x/', 'http://y/'] } }));
    assert.deepEqual(m.announceTiers, [['http://127.0.0.1:1/announce']]);
    assert.deepEqual(m.urlList, ['http://x/', 'http://y/']);
    assert.equal(m.isPrivate, false);
  });

  test('prefers path.utf-8 and name.utf-8 when present', () => {
    const t = mutate(buildTorrent(multi), (_r, info) => {
      info.set('name.utf-8', utf8('Ñame'));
      filesList(info)[0]!.set('path.utf-8', [utf8('ä.bin')]);
    });
    const m = parseMetainfo(t);
    assert.equal(m.name, 'Ñame');
    assert.deepEqual(m.files[0]!.path, ['Ñame', 'ä.bin']);
  });

  test('BEP 47: padding files are flagged and excluded from totalLength; attributes are read', () => {
    const t = buildTorrent(multi, { version: 'hybrid' });
    const noV2 = mutate(t, (root, info) => {
      info.delete('meta version');
      info.delete('file tree');
      root.delete('piece layers');
      filesList(info)[0]!.set('attr', 'xh');
    });
    const m = parseMetainfo(noV2);
    assert.equal(m.version, 'v1');
    assert.ok(m.files.some((f) => f.attributes.isPadding));
    assert.equal(m.totalLengthBytes, 5 * PL + 17);
    assert.ok(m.storageLengthBytes > m.totalLengthBytes);
    assert.deepEqual(m.files[0]!.attributes, {
      isPadding: false,
      isExecutable: true,
      isHidden: true,
      isSymlink: false,
    });
  });

  test('BEP 47: a symlink may omit its length and carries a safe target', () => {
    const t = mutate(buildTorrent(multi), (_r, info) => {
      const files = filesList(info);
      files.push(
        new Map<string, BEncodable>([
          ['attr', 'l'],
          ['path', ['link']],
          ['symlink path', ['a.bin']],
        ]),
      );
    });
    const m = parseMetainfo(t);
    const link = m.files.at(-1)!;
    assert.equal(link.attributes.isSymlink, true);
    assert.deepEqual(link.symlinkPath, ['a.bin']);
    assert.equal(link.lengthBytes, 0);
  });

  test('accepts unsorted info keys and hashes the exact bytes, not a re-encoding', () => {
    const pieces = Buffer.from(createHash('sha1').update(new Uint8Array(5)).digest()).toString('latin1');
    const info = `d12:piece lengthi16384e4:name5:x.bin6:lengthi5e6:pieces20:${pieces}e`;
    const bytes = new Uint8Array(Buffer.from(`d4:info${info}e`, 'latin1'));
    const m = parseMetainfo(bytes);
    assert.equal(toHex(m.infoHash!), createHash('sha1').update(Buffer.from(info, 'latin1')).digest('hex'));
    assert.notEqual(
      toHex(m.infoHash!),
      createHash('sha1')
        .update(encode(decode(m.infoBytes) as BEncodable))
        .digest('hex'),
    );
  });
});

describe('parseMetainfo v2 and hybrid', () => {
  test('reads a v2 multi-file torrent with SHA-256 hash, pieces roots, layers and implied padding', () => {
    const t = buildTorrent(multi, { version: 'v2', name: 'tree' });
    const m = parseMetainfo(t);
    assert.equal(m.version, 'v2');
    assert.equal(m.infoHash, null);
    assert.equal(toHex(m.infoHashV2!), createHash('sha256').update(m.infoBytes).digest('hex'));
    const real = m.files.filter((f) => !f.attributes.isPadding);
    assert.deepEqual(
      real.map((f) => f.path.join('/')),
      ['tree/a.bin', 'tree/empty.txt', 'tree/nested/deeper/b.bin', 'tree/nested/ünïcødé 名前.dat'],
    );
    for (const f of real) {
      assert.equal(f.offsetBytes % PL === 0 || f.lengthBytes === 0, true, f.path.join('/'));
      assert.equal(f.piecesRoot?.length, f.lengthBytes > 0 ? 32 : undefined);
    }
    assert.equal(m.pieceCount, 1 + 2 + 4);
    assert.equal(m.pieceLayers.size, 2);
    assert.equal(m.totalLengthBytes, 5 * PL + 17);
    assert.equal(m.storageLengthBytes, m.pieceCount * PL);
  });

  test('reads a v2 single-file torrent', () => {
    const t = buildTorrent([{ path: ['s.bin'], data: fixtureBytes(40000) }], {
      version: 'v2',
      name: 's.bin',
      single: true,
    });
    const m = parseMetainfo(t);
    assert.equal(m.isSingleFile, true);
    assert.deepEqual(m.files[0]!.path, ['s.bin']);
    assert.equal(m.pieceCount, 3);
  });

  test('reads a hybrid torrent: both hashes, v1 padding, v2 roots on the v1 entries', () => {
    const m = parseMetainfo(buildTorrent(multi, { version: 'hybrid', pieceLength: 2 * PL }));
    assert.equal(m.version, 'hybrid');
    assert.equal(m.infoHash?.length, 20);
    assert.equal(m.infoHashV2?.length, 32);
    const real = m.files.filter((f) => !f.attributes.isPadding);
    assert.equal(real.length, 4);
    assert.ok(real[3]!.piecesRoot);
    assert.equal(m.pieceCount, m.pieceHashes!.length / 20);
  });

  test('parseInfoDictionary accepts bare metadata without piece layers', () => {
    const m = parseMetainfo(buildTorrent(multi, { version: 'hybrid' }));
    const again = parseInfoDictionary(m.infoBytes);
    assert.deepEqual(again.infoHashV2, m.infoHashV2);
    assert.equal(again.pieceLayers.size, 0);
  });
});

describe('parseMetainfo refuses bad torrents with a code naming the field', () => {
  const v1 = buildTorrent(multi);
  const v2 = buildTorrent(multi, { version: 'v2' });
  const hybrid = buildTorrent(multi, { version: 'hybrid' });

  test('structure', () => {
    expectCode(encode([1, 2]), 'METAINFO_NOT_A_DICT');
    expectCode(encode({ announce: 'x' }), 'METAINFO_MISSING_INFO', /^info: /);
    expectCode(buildTorrent(multi, { info: { name: undefined } }), 'METAINFO_MISSING_FIELD', /info\.name/);
    expectCode(buildTorrent(multi, { info: { name: 5 } }), 'METAINFO_BAD_FIELD', /info\.name/);
    expectCode(
      buildTorrent(multi, { info: { name: new Uint8Array([0xff, 0xfe]) } }),
      'METAINFO_BAD_ENCODING',
    );
    expectCode(buildTorrent(multi, { info: { length: 5 } }), 'METAINFO_AMBIGUOUS_LAYOUT');
    expectCode(buildTorrent(multi, { info: { files: undefined } }), 'METAINFO_NO_FILES');
    expectCode(buildTorrent(multi, { info: { files: [] } }), 'METAINFO_NO_FILES');
    expectCode(buildTorrent(multi, { info: { 'meta version': 3 } }), 'METAINFO_BAD_VERSION');
  });

  test('piece length', () => {
    for (const bad of [0, -16384, 16383, 8192, 3 * 16384, 2 ** 29, 'x']) {
      expectCode(
        buildTorrent(multi, { info: { 'piece length': bad } }),
        'METAINFO_BAD_PIECE_LENGTH',
        /info\.piece length/,
      );
    }
  });

  test('pieces', () => {
    expectCode(
      buildTorrent(multi, { info: { pieces: new Uint8Array(21) } }),
      'METAINFO_PIECES_MISMATCH',
      /multiple of 20/,
    );
    expectCode(
      buildTorrent(multi, { info: { pieces: new Uint8Array(40) } }),
      'METAINFO_PIECES_MISMATCH',
      /need 6/,
    );
    expectCode(
      buildTorrent(multi, { info: { pieces: undefined, 'meta version': undefined } }),
      'METAINFO_MISSING_FIELD',
    );
  });

  test('lengths and limits', () => {
    const withLength = (v: BEncodable) =>
      mutate(v1, (_r, info) => {
        filesList(info)[1]!.set('length', v);
      });
    expectCode(withLength(-1), 'METAINFO_BAD_LENGTH', /info\.files\[1\]\.length/);
    expectCode(withLength('7'), 'METAINFO_BAD_LENGTH');
    expectCode(withLength(2n ** 60n), 'METAINFO_TOO_LARGE');
    expectCode(withLength(2 ** 51), 'METAINFO_TOO_LARGE');
    expectCode(v1, 'METAINFO_TOO_MANY_FILES', undefined, { limits: { maxFileCount: 3 } });
    expectCode(v1, 'METAINFO_TOO_LARGE', undefined, { limits: { maxTorrentBytes: 100 } });
    expectCode(v1, 'METAINFO_TOO_LARGE', /pieces exceed/, { limits: { maxPieceCount: 2 } });
  });

  test('unsafe paths name the component', () => {
    const withPath = (path: BEncodable, i = 1) =>
      mutate(v1, (_r, info) => {
        filesList(info)[i]!.set('path', path);
      });
    expectCode(
      withPath(['ok', '..']),
      'METAINFO_UNSAFE_PATH',
      /^info\.files\[1\]\.path\[1\]: "\.\." is not allowed/,
    );
    expectCode(withPath(['/etc', 'passwd']), 'METAINFO_UNSAFE_PATH', /info\.files\[1\]\.path\[0\]/);
    expectCode(withPath(['C:', 'x']), 'METAINFO_UNSAFE_PATH', /drive letter/);
    expectCode(withPath(['a\\..\\b']), 'METAINFO_UNSAFE_PATH', /backslash/);
    expectCode(withPath(['a\u0000b']), 'METAINFO_UNSAFE_PATH', /control/);
    expectCode(withPath(['AUX']), 'METAINFO_UNSAFE_PATH', /reserved/);
    expectCode(withPath([]), 'METAINFO_UNSAFE_PATH', /empty path/);
    expectCode(withPath(['']), 'METAINFO_UNSAFE_PATH', /empty path component/);
    expectCode(withPath([5]), 'METAINFO_BAD_FIELD', /path\[0\]/);
    expectCode(buildTorrent(multi, { info: { name: '..' } }), 'METAINFO_UNSAFE_PATH', /^info\.name: /);
    expectCode(
      buildTorrent([{ path: ['x'], data: fixtureBytes(5) }], { name: '../evil', single: true }),
      'METAINFO_UNSAFE_PATH',
      /^info\.name/,
    );
  });

  test('duplicate paths and a name that is both a file and a folder', () => {
    const dup = mutate(v1, (_r, info) => {
      filesList(info)[1]!.set('path', ['A.BIN']);
    });
    expectCode(dup, 'METAINFO_DUPLICATE_PATH', /^info\.files\[1\]\.?.*info\.files\[0\]/);
    const conflict = mutate(v1, (_r, info) => {
      filesList(info)[1]!.set('path', ['nested']);
    });
    expectCode(conflict, 'METAINFO_PATH_CONFLICT', /both a file and a folder/);
  });

  test('unsafe paths are made safe instead with unsafePaths: sanitize', () => {
    const t = mutate(v1, (_r, info) => {
      info.set('name', '..');
      filesList(info)[0]!.set('path', ['..', 'CON']);
      filesList(info)[1]!.set('path', ['_', 'con']);
      filesList(info)[2]!.set('path', [new Uint8Array([0x66, 0xff])]);
    });
    const m = parseMetainfo(t, { unsafePaths: 'sanitize' });
    assert.equal(m.name, '_');
    assert.deepEqual(m.files[0]!.path, ['_', '_', '_CON']);
    assert.deepEqual(m.files[1]!.path, ['_', '_', '_con (1)']);
    assert.deepEqual(m.files[2]!.path, ['_', 'f_']);
  });

  test('v2 file tree', () => {
    const tree = (edit: (tree: Map<string, BEncodable>) => void) =>
      mutate(v2, (_r, info) => edit(info.get('file tree') as Map<string, BEncodable>));
    expectCode(
      buildTorrent(multi, { version: 'v2', info: { 'file tree': undefined } }),
      'METAINFO_MISSING_FIELD',
    );
    expectCode(
      tree((t) => t.set('empty', new Map())),
      'METAINFO_BAD_FILE_TREE',
      /empty directory/,
    );
    expectCode(
      tree((t) => t.set('', new Map())),
      'METAINFO_BAD_FILE_TREE',
    );
    expectCode(
      tree((t) => t.set('x', 5)),
      'METAINFO_BAD_FILE_TREE',
    );
    expectCode(
      tree((t) => t.set('..', new Map([['', new Map([['length', 0]])]]))),
      'METAINFO_UNSAFE_PATH',
      /info\.file tree\/\.\.\[0\]/,
    );
    const noRoot = tree((t) => {
      const leaf = (t.get('a.bin') as Map<string, BEncodable>).get('') as Map<string, BEncodable>;
      leaf.set('pieces root', new Uint8Array(31));
    });
    expectCode(noRoot, 'METAINFO_BAD_PIECES_ROOT', /a\.bin\.pieces root/);
  });

  test('v2 piece layers', () => {
    const layers = (edit: (layers: Map<string, BEncodable>) => void) =>
      mutate(v2, (root) => edit(root.get('piece layers') as Map<string, BEncodable>));
    expectCode(
      layers((l) => l.clear()),
      'METAINFO_BAD_PIECE_LAYER',
      /no layer for/,
    );
    expectCode(
      layers((l) => {
        for (const k of l.keys()) l.set(k, new Uint8Array(64));
      }),
      'METAINFO_BAD_PIECE_LAYER',
    );
    expectCode(
      layers((l) => {
        for (const [k, v] of l) l.set(k, new Uint8Array(v as Uint8Array).fill(7));
      }),
      'METAINFO_BAD_PIECE_LAYER',
      /does not hash to its pieces root/,
    );
    expectCode(
      mutate(v2, (root) => root.set('piece layers', 5)),
      'METAINFO_BAD_PIECE_LAYER',
    );
  });

  test('hybrid consistency', () => {
    const dropPad = mutate(hybrid, (_r, info) => {
      info.set(
        'files',
        filesList(info).filter((f) => !(f.get('attr') instanceof Uint8Array)),
      );
    });
    expectCode(dropPad, 'METAINFO_HYBRID_MISMATCH', /piece boundary/);
    const renamed = mutate(hybrid, (_r, info) => {
      filesList(info)[0]!.set('path', ['other.bin']);
    });
    expectCode(renamed, 'METAINFO_HYBRID_MISMATCH', /info\.files\[0\]/);
    const extra = mutate(hybrid, (_r, info) => {
      filesList(info).push(
        new Map<string, BEncodable>([
          ['length', 0],
          ['path', ['z']],
        ]),
      );
    });
    expectCode(extra, 'METAINFO_HYBRID_MISMATCH', /lists 5 files/);
  });

  test('bencode errors still surface as BencodeError', () => {
    assert.throws(() => parseMetainfo(utf8('d4:info')), { name: 'BencodeError' });
  });
});
