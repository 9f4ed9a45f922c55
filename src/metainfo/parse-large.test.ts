import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { hugeTorrent } from '../../test/helpers/huge-torrent.js';
import { decode } from '../bencode/index.js';
import { MetainfoError } from './errors.js';
import { DEFAULT_METAINFO_LIMITS, torrentDecodeLimits, VALUES_PER_FILE } from './limits.js';
import { parseMetainfo } from './parse.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('very large torrents', () => {
  test('a 1,000,000-file torrent (the documented file limit) parses, in bounded time and heap', {
    timeout: 180_000,
  }, () => {
    const n = DEFAULT_METAINFO_LIMITS.maxFileCount;
    const bytes = hugeTorrent(n);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const m = parseMetainfo(bytes);
    const ms = performance.now() - t0;
    gc();
    const retainedMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    assert.equal(m.files.length, n);
    assert.deepEqual(m.files[0]!.path, ['huge', 'dir0', 'f0.bin']);
    assert.deepEqual(m.files[n - 1]!.path, ['huge', 'dir999', 'f999999.bin']);
    assert.equal(m.files[n - 1]!.offsetBytes, n - 1);
    assert.equal(m.totalLengthBytes, n);
    // Generous: ~5 s on an idle 2-core machine; the bound is for a quadratic regression (minutes).
    assert.ok(ms < 120_000, `parsed in ${ms.toFixed(0)} ms`);
    assert.ok(retainedMiB < 600, `the parsed torrent holds ${retainedMiB.toFixed(0)} MiB`);
    process.stdout.write(`# 1,000,000 files: ${ms.toFixed(0)} ms, ${retainedMiB.toFixed(0)} MiB retained\n`);
  });

  test('the bencode value limit leaves room for every file the file limit allows', () => {
    const limits = torrentDecodeLimits(DEFAULT_METAINFO_LIMITS);
    assert.ok(limits.maxItems! >= DEFAULT_METAINFO_LIMITS.maxFileCount * VALUES_PER_FILE);
    assert.equal(limits.maxBytes, DEFAULT_METAINFO_LIMITS.maxTorrentBytes);
    // 7 values per file here: dict, 2 keys, length, list, 2 components.
    const sample = decode(hugeTorrent(10)) as Map<string, Map<string, unknown[]>>;
    assert.equal(sample.get('info')!.get('files')!.length, 10);
  });

  test('one file more than the limit is METAINFO_TOO_MANY_FILES, not a bencode error', () => {
    assert.throws(
      () => parseMetainfo(hugeTorrent(1001), { limits: { maxFileCount: 1000 } }),
      (err: unknown) => err instanceof MetainfoError && err.code === 'METAINFO_TOO_MANY_FILES',
    );
  });
});
