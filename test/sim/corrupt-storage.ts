/**
 * A storage that lies: what it serves for chosen pieces has bytes flipped (as a buggy or
 * malicious peer's would), while what it stores stays intact. Wrap a peer's factory with it.
 */
import type { Storage } from '../../src/storage/storage.js';
import type { StorageFactory } from '../../src/storage/storage-factory.js';

/** Serve corrupt data for every piece where `isCorrupt(piece)`: one byte of each block flipped. */
export function corruptingStorage(
  inner: StorageFactory,
  isCorrupt: (piece: number) => boolean,
): StorageFactory {
  return {
    name: `corrupt+${inner.name}`,
    open: async (layout, request) => corruptReads(await inner.open(layout, request), isCorrupt),
    loadResume: (request) => inner.loadResume(request),
    saveResume: (request, bytes) => inner.saveResume(request, bytes),
  };
}

function corruptReads(s: Storage, isCorrupt: (piece: number) => boolean): Storage {
  const lie = (piece: number, offset: number, data: Uint8Array): Uint8Array => {
    if (!isCorrupt(piece)) return data;
    const out = data.slice();
    // Byte 100 of every 16 KiB block the range covers.
    for (let at = (16384 - (offset % 16384) + 100) % 16384; at < out.length; at += 16384)
      out[at] = out[at]! ^ 0xff;
    return out;
  };
  return {
    get fileMap() {
      return s.fileMap;
    },
    readBlock: async (piece, offset, length) => lie(piece, offset, await s.readBlock(piece, offset, length)),
    readPiece: async (piece) => lie(piece, 0, await s.readPiece(piece)),
    writeBlock: (piece, offset, data) => s.writeBlock(piece, offset, data),
    hashPiece: (piece) => s.hashPiece(piece),
    verifyPiece: (piece, expected) => s.verifyPiece(piece, expected),
    setFilePriority: (file, priority) => s.setFilePriority(file, priority),
    filePriority: (file) => s.filePriority(file),
    stat: () => s.stat(),
    flush: () => s.flush(),
    close: (options) => s.close(options),
  };
}
