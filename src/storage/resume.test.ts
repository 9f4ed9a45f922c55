import assert from 'node:assert/strict';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.js';
import { decode, encode } from '../bencode/index.js';
import { Bitfield } from '../util/bitfield.js';
import { openFsStorage } from './fs-storage.js';
import { loadResume, type ResumeCodec, saveResume } from './resume.js';
import { contentFor, makeLayout, writeAll } from './storage.conformance.js';

const codec: ResumeCodec = { encode: (v) => encode(v as Parameters<typeof encode>[0]), decode };

const layout = makeLayout(
  [
    ['a', 50_000],
    ['b', 30_000],
    ['c', 40_000],
  ],
  32 * 1024,
);

async function downloaded(dir: string) {
  const s = await openFsStorage(layout, { rootDir: dir });
  await writeAll(s, contentFor(layout, 12));
  await s.flush();
  const have = Bitfield.full(s.fileMap.pieceCount);
  const resumePath = join(dir, '.resume');
  await saveResume(
    resumePath,
    { have, files: await s.stat(), torrentId: new Uint8Array(20).fill(1) },
    s.fileMap,
    codec,
  );
  return { s, resumePath };
}

describe('fast resume', () => {
  test('after kill -9 (storage never closed) a reopened torrent trusts every recorded piece', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const { s: dead, resumePath } = await downloaded(dir.path); // no close(): the process "died"
    t.after(() => dead.close()); // only to release descriptors once the test is over
    const again = await openFsStorage(layout, { rootDir: dir.path });
    const r = await loadResume(resumePath, { map: again.fileMap, codec, current: await again.stat() });
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.equal(r.check.have.count, again.fileMap.pieceCount);
    assert.deepEqual(r.check.recheck, []);
    await again.close();
  });

  test('a file changed behind our back (content and mtime) flags exactly the pieces that touch it', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const { s, resumePath } = await downloaded(dir.path);
    await s.close();
    const bPath = join(dir.path, 't', 'b');
    const bytes = readFileSync(bPath);
    bytes[10] = bytes[10]! ^ 0xff;
    writeFileSync(bPath, bytes);
    utimesSync(bPath, new Date(), new Date(Date.now() + 5000));
    const again = await openFsStorage(layout, { rootDir: dir.path });
    const r = await loadResume(resumePath, { map: again.fileMap, codec, current: await again.stat() });
    assert.ok(r.ok);
    // b spans bytes 50_000..80_000: pieces 1 and 2 (32 KiB pieces).
    assert.deepEqual(r.check.changedFiles, [1]);
    assert.deepEqual(r.check.recheck, [1, 2]);
    assert.equal(r.check.have.toString(), '*  *');
    await again.close();
  });

  test('a deleted file invalidates its pieces', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const { s, resumePath } = await downloaded(dir.path);
    await s.close();
    const { rmSync } = await import('node:fs');
    rmSync(join(dir.path, 't', 'c'));
    const again = await openFsStorage(layout, { rootDir: dir.path });
    const r = await loadResume(resumePath, { map: again.fileMap, codec, current: await again.stat() });
    assert.ok(r.ok);
    assert.deepEqual(r.check.recheck, [2, 3]);
    await again.close();
  });

  test('a torn, corrupted, foreign or missing resume file is ignored with a reason', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const { s, resumePath } = await downloaded(dir.path);
    const current = await s.stat();
    const good = readFileSync(resumePath);
    const cases: [string, Uint8Array, RegExp][] = [
      ['torn', good.subarray(0, good.length - 7), /checksum/],
      ['bit flip', Uint8Array.from(good, (b, i) => (i === good.length - 3 ? b ^ 1 : b)), /checksum/],
      ['foreign', new TextEncoder().encode('d4:havei1ee'), /not a peerdrop resume/],
    ];
    for (const [name, bytes, reason] of cases) {
      writeFileSync(resumePath, bytes);
      const r = await loadResume(resumePath, { map: s.fileMap, codec, current });
      assert.equal(r.ok, false, name);
      assert.match(r.ok ? '' : r.reason, reason, name);
    }
    writeFileSync(resumePath, good);
    const other = await loadResume(resumePath, {
      map: s.fileMap,
      codec,
      current,
      torrentId: new Uint8Array(20),
    });
    assert.match(other.ok ? '' : other.reason, /different torrent/);
    const none = await loadResume(join(dir.path, 'nope'), { map: s.fileMap, codec, current });
    assert.match(none.ok ? '' : none.reason, /no resume file/);
    await s.close();
  });

  test('saving replaces the record atomically and leaves no temp file', async (t) => {
    const dir = tempDir();
    t.after(dir.cleanup);
    const { s, resumePath } = await downloaded(dir.path);
    const half = new Bitfield(s.fileMap.pieceCount);
    half.set(0);
    await saveResume(resumePath, { have: half, files: await s.stat() }, s.fileMap, codec);
    const r = await loadResume(resumePath, { map: s.fileMap, codec, current: await s.stat() });
    assert.ok(r.ok);
    assert.equal(r.check.have.toString(), '*   ');
    const { readdirSync } = await import('node:fs');
    assert.deepEqual(
      readdirSync(dir.path).filter((n) => n.includes('.tmp')),
      [],
    );
    await s.close();
  });
});
