import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readTree, standardTree, writeTree } from '../../test/helpers/content.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { buildTorrent as fixtureTorrent } from '../../test/helpers/torrent-fixtures.js';
import { sortFilesForVersion } from '../metainfo/build.js';
import { infoHashV1, infoHashV2 } from '../metainfo/info-hash.js';
import { parseMetainfo } from '../metainfo/parse.js';
import { CreateTorrentError, createTorrent } from './create-torrent.js';
import { createHashPool } from './hash-pool.js';

const PL = 32768;
const tmp = tempDir('peerdrop-create-');
after(() => tmp.cleanup());

const root = join(tmp.path, 'tree');
writeTree(root, standardTree(PL));
const tree = readTree(root);
const fixtureFiles = [...tree].map(([p, data]) => ({ path: p.split('/'), data: new Uint8Array(data) }));

function infoBytesOf(torrent: Uint8Array): Uint8Array {
  return parseMetainfo(torrent, { unsafePaths: 'sanitize' }).infoBytes;
}

describe('createTorrent', () => {
  for (const version of ['v1', 'v2', 'hybrid'] as const) {
    test(`${version}: the info-hash equals an independently built torrent of the same files`, async () => {
      const r = await createTorrent(root, { version, pieceLengthBytes: PL, threads: 2 });
      const ordered = sortFilesForVersion(fixtureFiles, version);
      const expected = infoBytesOf(fixtureTorrent(ordered, { name: 'tree', pieceLength: PL, version }));
      assert.deepEqual(r.infoBytes, expected);
      if (version !== 'v2') assert.deepEqual(r.infoHash, infoHashV1(expected));
      if (version !== 'v1') assert.deepEqual(r.infoHashV2, infoHashV2(expected));
      assert.equal(
        r.totalLengthBytes,
        [...tree.values()].reduce((n, b) => n + b.length, 0),
      );
      assert.match(r.magnet, /^magnet:\?xt=urn:bt/);
    });
  }

  test('v1 lists files by path bytes, empty files included', async () => {
    const r = await createTorrent(root, { pieceLengthBytes: PL });
    assert.deepEqual(
      r.files.map((f) => f.path.join('/')),
      ['a.bin', 'empty.txt', 'nested/deeper/b.bin', 'nested/ünïcødé 名前.dat', 'z-last.bin'],
    );
  });

  test('a single file makes a single-file torrent named after it', async () => {
    const r = await createTorrent(join(root, 'a.bin'), { pieceLengthBytes: PL });
    const m = parseMetainfo(r.torrentBytes);
    assert.equal(m.isSingleFile, true);
    assert.equal(m.name, 'a.bin');
    const expected = infoBytesOf(
      fixtureTorrent([{ path: ['a.bin'], data: new Uint8Array(tree.get('a.bin')!) }], {
        name: 'a.bin',
        pieceLength: PL,
        single: true,
      }),
    );
    assert.deepEqual(r.infoBytes, expected);
  });

  test('reports progress up to the total', async () => {
    const seen: number[] = [];
    const r = await createTorrent(root, {
      pieceLengthBytes: PL,
      version: 'hybrid',
      onProgress: (p) => seen.push(p.hashedBytes),
    });
    assert.ok(seen.length > 0);
    assert.equal(seen.at(-1), r.totalLengthBytes);
    assert.ok(seen.every((v, i) => i === 0 || v >= seen[i - 1]!));
  });

  test('an aborted signal stops hashing with an AbortError', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(createTorrent(root, { signal: ac.signal }), { name: 'AbortError' });
  });

  test('refuses an empty folder, a missing path and a symlink loop', async () => {
    const empty = join(tmp.path, 'empty');
    mkdirSync(join(empty, 'sub'), { recursive: true });
    await assert.rejects(
      createTorrent(empty),
      (e: unknown) => e instanceof CreateTorrentError && e.code === 'CREATE_NO_FILES',
    );
    await assert.rejects(createTorrent(join(tmp.path, 'nope')), { code: 'CREATE_NOT_FOUND' });
    const loop = join(tmp.path, 'loop');
    mkdirSync(join(loop, 'd'), { recursive: true });
    writeFileSync(join(loop, 'd', 'f'), 'x');
    symlinkSync('..', join(loop, 'd', 'up'));
    await assert.rejects(createTorrent(loop), { code: 'CREATE_SYMLINK_LOOP' });
  });

  test('memory stays bounded: hashing 384 MiB raises peak RSS by under a quarter of the data size', async () => {
    const small = join(tmp.path, 'small.bin');
    const big = join(tmp.path, 'big.bin');
    writeFileSync(small, '');
    writeFileSync(big, '');
    truncateSync(small, 8 * 1024 * 1024);
    truncateSync(big, 384 * 1024 * 1024); // sparse: reads as zeros, costs no disk
    // Warm the pool first so worker start-up (a V8 isolate each) is not counted as data growth.
    const hashPool = createHashPool({ threads: 2 });
    after(() => hashPool.close());
    await createTorrent(small, { pieceLengthBytes: 1024 * 1024, hashPool });
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    try {
      const r = await createTorrent(big, { pieceLengthBytes: 1024 * 1024, hashPool });
      assert.equal(r.pieceCount, 384);
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const growthMiB = (peak - before) / 2 ** 20;
    assert.ok(growthMiB < 96, `RSS grew by ${growthMiB.toFixed(1)} MiB`);
  });
});
