import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.js';
import { seededRandom } from '../util/random.js';
import { StorageError } from './errors.js';
import { createHashPool, type FileRange, type HashPool } from './hash-pool.js';

function bytes(length: number, seed: number): Uint8Array {
  const r = seededRandom(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(r.next() * 256);
  if (length > 3) out[3] = 0; // a NUL byte, to catch text-versus-bytes bugs
  return out;
}

const sha = (alg: string, data: Uint8Array) => new Uint8Array(createHash(alg).update(data).digest());

/** Piece ranges for files laid end to end (v1 layout), from the concatenation. */
function pieceRanges(files: { path: string; length: number }[], pieceLength: number): FileRange[][] {
  const pieces: FileRange[][] = [];
  let current: FileRange[] = [];
  let room = pieceLength;
  for (const f of files) {
    let offset = 0;
    while (offset < f.length) {
      const take = Math.min(room, f.length - offset);
      current.push({ path: f.path, offset, length: take });
      offset += take;
      room -= take;
      if (room === 0) {
        pieces.push(current);
        current = [];
        room = pieceLength;
      }
    }
  }
  if (current.length > 0) pieces.push(current);
  return pieces;
}

describe('hash pool', () => {
  const dir = tempDir();
  let pool: HashPool;
  const a = bytes(300_000, 1);
  const b = bytes(5, 2);
  const c = bytes(1_000_000, 3);
  const all = new Uint8Array([...a, ...b, ...c]);
  const files = [
    { path: join(dir.path, 'a'), length: a.length },
    { path: join(dir.path, 'b'), length: b.length },
    { path: join(dir.path, 'c'), length: c.length },
  ];

  before(() => {
    writeFileSync(files[0]!.path, a);
    writeFileSync(files[1]!.path, b);
    writeFileSync(files[2]!.path, c);
    pool = createHashPool({ threads: 2 });
  });
  after(async () => {
    await pool.close();
    dir.cleanup();
  });

  test('digest matches node:crypto for small (inline) and large (worker) buffers', async () => {
    assert.deepEqual(await pool.digest('sha1', b), sha('sha1', b));
    assert.deepEqual(await pool.digest('sha256', c), sha('sha256', c));
    assert.deepEqual(await pool.digest('sha1', c.subarray(7, 900_000)), sha('sha1', c.subarray(7, 900_000)));
  });

  test('digest with transfer moves a whole buffer to the worker', async () => {
    const data = c.slice();
    const expected = sha('sha1', data);
    assert.deepEqual(await pool.digest('sha1', data, { transfer: true }), expected);
    assert.equal(data.byteLength, 0, 'the buffer was transferred, not copied');
  });

  test('digestLent moves a whole buffer to the worker and back: same memory, same bytes', async () => {
    const data = c.slice();
    const expected = sha('sha1', data);
    const lent = await pool.digestLent!('sha1', data);
    assert.deepEqual(lent.digest, expected);
    assert.equal(data.byteLength, 0, 'detached while lent');
    assert.ok(Buffer.from(lent.data).equals(Buffer.from(c)), 'the bytes came back');
    // A view (not the whole buffer) is hashed without lending and returned as it went.
    const view = c.subarray(1, 900_001);
    const v = await pool.digestLent!('sha256', view);
    assert.equal(v.data, view);
    assert.deepEqual(v.digest, sha('sha256', view));
  });

  test('digest reads a SharedArrayBuffer without detaching it', async () => {
    const shared = new Uint8Array(new SharedArrayBuffer(c.length));
    shared.set(c);
    assert.deepEqual(await pool.digest('sha256', shared, { transfer: true }), sha('sha256', c));
    assert.equal(shared.byteLength, c.length);
  });

  test('hashPieces hashes pieces that span files, with a short last piece', async () => {
    const pieceLength = 64 * 1024;
    const digests = await pool.hashPieces({ algorithm: 'sha1', pieces: pieceRanges(files, pieceLength) });
    assert.equal(digests.length, Math.ceil(all.length / pieceLength));
    digests.forEach((d, i) => {
      assert.deepEqual(d, sha('sha1', all.subarray(i * pieceLength, (i + 1) * pieceLength)), `piece ${i}`);
    });
  });

  test('hashPieces crosses batch boundaries in order (many small pieces)', async () => {
    const pieceLength = 16 * 1024;
    const pieces = pieceRanges(files, pieceLength);
    const digests = await pool.hashPieces({ algorithm: 'sha256', pieces: [...pieces, ...pieces, ...pieces] });
    assert.equal(digests.length, pieces.length * 3);
    const i = pieces.length * 2 + 5;
    const p = 5;
    assert.deepEqual(digests[i], sha('sha256', all.subarray(p * pieceLength, (p + 1) * pieceLength)));
  });

  test('blocks mode returns SHA-256 of every 16 KiB block, the short last one at its real length', async () => {
    const pieceLength = 64 * 1024;
    const pieces = pieceRanges([files[2]!], pieceLength);
    const out = await pool.hashPieces({ algorithm: 'sha256', mode: 'blocks', pieces });
    const last = out[out.length - 1]!;
    const lastPieceStart = (pieces.length - 1) * pieceLength;
    const lastBlocks = Math.ceil((c.length - lastPieceStart) / 16384);
    assert.equal(last.length, lastBlocks * 32);
    const lastBlockStart = lastPieceStart + (lastBlocks - 1) * 16384;
    assert.deepEqual(last.subarray(-32), sha('sha256', c.subarray(lastBlockStart)));
    assert.deepEqual(out[0]!.subarray(32, 64), sha('sha256', c.subarray(16384, 32768)));
  });

  test('missing data fails with STORAGE_MISSING_DATA, or yields null with allowMissing', async () => {
    const pieces = [
      [{ path: join(dir.path, 'a'), offset: 0, length: 1000 }],
      [{ path: join(dir.path, 'nope'), offset: 0, length: 10 }],
      [{ path: join(dir.path, 'b'), offset: 0, length: 6 }],
    ];
    await assert.rejects(pool.hashPieces({ algorithm: 'sha1', pieces }), (e: unknown) => {
      return e instanceof StorageError && e.code === 'STORAGE_MISSING_DATA';
    });
    const got: (Uint8Array | null)[] = [];
    for await (const r of pool.hashPiecesIter({ algorithm: 'sha1', pieces, allowMissing: true }))
      got.push(r.digest);
    assert.deepEqual(got[0], sha('sha1', a.subarray(0, 1000)));
    assert.equal(got[1], null, 'absent file');
    assert.equal(got[2], null, 'file shorter than the range');
  });

  test('an aborted job stops with the abort reason', async () => {
    const ac = new AbortController();
    const pieces = pieceRanges(files, 16 * 1024);
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const r of pool.hashPiecesIter({ algorithm: 'sha1', pieces, signal: ac.signal })) {
        seen.push(r.index);
        if (r.index === 3) ac.abort(new Error('stop'));
      }
    }, /stop/);
    assert.equal(seen.at(-1), 3);
  });

  test('a closed pool rejects new work with STORAGE_CLOSED', async () => {
    const p = createHashPool({ threads: 1 });
    assert.deepEqual(await p.digest('sha1', c), sha('sha1', c));
    await p.close();
    await assert.rejects(
      p.digest('sha1', c),
      (e: unknown) => e instanceof StorageError && e.code === 'STORAGE_CLOSED',
    );
  });
});
