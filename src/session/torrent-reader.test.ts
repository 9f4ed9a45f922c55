import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PieceRange } from '../swarm/types.js';
import { TorrentReader } from './torrent-reader.js';

const KIB = 1024;

function reader(opts: ConstructorParameters<typeof TorrentReader>[2]) {
  const applied: PieceRange[] = [];
  // A file at byte 100 KiB of the torrent, 1000 KiB long; 64 KiB pieces.
  const r = new TorrentReader({ offsetBytes: 100 * KIB, lengthBytes: 1000 * KIB }, 64 * KIB, opts, (w) =>
    applied.push(w),
  );
  return { r, applied };
}

test('the window runs from the read position over the readahead, in torrent pieces', () => {
  const { r, applied } = reader({ offsetBytes: 0, readaheadBytes: 256 * KIB });
  // bytes [100 KiB, 356 KiB) of the torrent: pieces 1..5
  assert.deepEqual(r.window, { firstPiece: 1, endPiece: 6 });
  assert.deepEqual(applied, [{ firstPiece: 1, endPiece: 6 }]);
});

test('reading forward slides the window; an unchanged window is not applied again', () => {
  const { r, applied } = reader({ readaheadBytes: 128 * KIB });
  r.advanceTo(10 * KIB); // still in piece 1
  assert.equal(applied.length, 1);
  r.advanceTo(500 * KIB);
  assert.deepEqual(r.window, { firstPiece: 9, endPiece: 12 });
  r.advanceTo(100 * KIB); // never backwards: advanceTo only moves on
  assert.deepEqual(r.window, { firstPiece: 9, endPiece: 12 });
  assert.equal(applied.length, 2);
});

test('a seek moves the window anywhere, within the range it names; the range end bounds the window', () => {
  const { r } = reader({ readaheadBytes: 8 * 1024 * KIB });
  assert.deepEqual(r.window, { firstPiece: 1, endPiece: 18 }); // to the file's end (1100 KiB)
  r.seek(640 * KIB, 10 * KIB);
  assert.deepEqual(r.window, { firstPiece: 11, endPiece: 12 });
  r.seek(2_000 * KIB); // past the end: nothing to fetch
  assert.deepEqual(r.window, { firstPiece: 0, endPiece: 0 });
});

test('the readahead spans at least two pieces, and close releases the window once', () => {
  const { r, applied } = reader({ offsetBytes: 0, readaheadBytes: 1 });
  assert.deepEqual(r.window, { firstPiece: 1, endPiece: 4 }); // 128 KiB from byte 100 KiB
  r.close();
  r.close();
  r.seek(0);
  assert.equal(r.isClosed, true);
  assert.deepEqual(applied.at(-1), { firstPiece: 0, endPiece: 0 });
  assert.equal(applied.length, 2);
});
