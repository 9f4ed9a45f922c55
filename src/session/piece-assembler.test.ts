import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BlockStore, PieceAssembler } from './piece-assembler.js';

/** A store whose writes land in reverse order of issue (the first write is the slowest). */
function slowStore(pieceLength: number): BlockStore & { disk: Uint8Array } {
  const disk = new Uint8Array(pieceLength * 4);
  let delay = 50;
  return {
    disk,
    writeBlock: (piece, offset, data) => {
      const copy = data.slice();
      const ms = delay;
      delay = Math.max(0, delay - 20);
      return new Promise((resolve) =>
        setTimeout(() => {
          disk.set(copy, piece * pieceLength + offset);
          resolve();
        }, ms),
      );
    },
    readPiece: async (piece) => disk.slice(piece * pieceLength, (piece + 1) * pieceLength),
  };
}

test('a spilled piece is read back only after every block write has landed', async () => {
  const pieceLength = 3 * 16384;
  const store = slowStore(pieceLength);
  // Budget for one piece: piece 0 is buffered, piece 1 spills to the store.
  const a = new PieceAssembler(store, () => pieceLength, pieceLength);
  await a.addBlock(0, 0, new Uint8Array(16384).fill(9));
  const blocks = [0, 1, 2].map((i) => new Uint8Array(16384).fill(i + 1));
  const writes = blocks.map((b, i) => a.addBlock(1, i * 16384, b));
  assert.equal(a.isBuffered(1), false, 'piece 1 spilled');
  await writes[2]; // the last block's write lands first
  const data = await a.pieceData(1);
  for (let i = 0; i < 3; i++) assert.equal(data[i * 16384], i + 1, `block ${i} present`);
});

test('buffers are reused after release and memory stays within the budget', async () => {
  const pieceLength = 16384;
  const a = new PieceAssembler(slowStore(pieceLength), () => pieceLength, 2 * pieceLength);
  await a.addBlock(0, 0, new Uint8Array(pieceLength).fill(1));
  const first = await a.pieceData(0);
  a.release(0);
  await a.addBlock(1, 0, new Uint8Array(pieceLength).fill(2));
  assert.equal(await a.pieceData(1), first, 'the released buffer was reused');
  assert.ok(a.memoryBytes <= 2 * pieceLength);
});

test('a buffer lent to a hash worker is restored for reuse; a lost one still frees its budget', async () => {
  const pieceLength = 16384;
  const a = new PieceAssembler(slowStore(pieceLength), () => pieceLength, 2 * pieceLength);
  await a.addBlock(0, 0, new Uint8Array(pieceLength).fill(1));
  const lent = await a.pieceData(0);
  const back = structuredClone(lent, { transfer: [lent.buffer as ArrayBuffer] }); // as postMessage does
  assert.equal(lent.byteLength, 0);
  a.restore(0, back);
  assert.equal(await a.pieceData(0), back);
  a.release(0);
  await a.addBlock(1, 0, new Uint8Array(pieceLength).fill(2));
  assert.equal(await a.pieceData(1), back, 'the restored buffer was reused');
  // Piece 1's buffer is lost (a worker died holding it): release still returns its budget.
  structuredClone(await a.pieceData(1), { transfer: [(await a.pieceData(1)).buffer as ArrayBuffer] });
  a.release(1);
  assert.equal(a.memoryBytes, 0);
  await a.addBlock(2, 0, new Uint8Array(pieceLength).fill(3));
  assert.equal((await a.pieceData(2))[0], 3, 'a fresh buffer, not the detached one');
});
