import { binaryKey, decode, encode } from '../bencode/index.js';
import { wireInfoHash } from '../metainfo/info-hash.js';
import { leafHashes, merkleRoot, verifyPiece as verifyMerklePiece } from '../metainfo/merkle.js';
import type { Metainfo, TorrentFileEntry } from '../metainfo/types.js';
import type { FsStorage } from '../storage/fs-storage.js';
import type { HashPool } from '../storage/hash-pool.js';
import { decodeResume, encodeResume, type ResumeCodec, reconcileResume } from '../storage/resume.js';
import type { FilePriority, Storage } from '../storage/storage.js';
import type { OpenStorageRequest, StorageFactory } from '../storage/storage-factory.js';
import { verifyV1, verifyV2 } from '../storage/verify.js';
import { Bitfield } from '../util/bitfield.js';
import { bytesEqual } from '../util/bytes.js';
import type { TorrentStorage } from './torrent.js';
import type { TorrentOptions } from './torrent-types.js';

/** What the session gets for a torrent: storage, the verified pieces, and the piece checker. */
/** A piece check's verdict, and the piece's bytes to use from then on (see `HashPool.digestLent`). */
export interface PieceCheck {
  readonly ok: boolean;
  /** `data` itself, or the same memory back from a hash worker (`data` is then detached). */
  readonly data: Uint8Array;
}

export interface OpenedStorage {
  readonly storage: TorrentStorage;
  readonly have: Bitfield;
  readonly verifyPiece: (piece: number, data: Uint8Array) => Promise<PieceCheck>;
}

const codec: ResumeCodec = { encode: (v) => encode(v as never), decode };

/**
 * Open a torrent's data through the session's `StorageFactory` and find out what is already
 * there: trust fast-resume data for unchanged files, re-check in the hash workers only the
 * pieces of files changed behind our back, and hash everything only when there is no usable
 * record.
 */
export async function openTorrentStorage(
  metainfo: Metainfo,
  options: TorrentOptions,
  wantedFiles: readonly boolean[],
  hashPool: HashPool,
  onCheckProgress: (fraction: number) => void,
  factory: StorageFactory,
): Promise<OpenedStorage> {
  const pieceHashes = metainfo.pieceHashes;
  const id = wireInfoHash(metainfo);
  const request: OpenStorageRequest = {
    dir: options.dir,
    key: Buffer.from(id).toString('hex'),
    priorities: wantedFiles.map((w): FilePriority => (w ? 4 : 0)),
    hashPool,
    ...(options.resumePath === undefined ? {} : { resumePath: options.resumePath }),
  };
  const store = await factory.open(metainfo, request);
  const checkV2 = v2PieceChecker(metainfo);
  const verifyPiece = pieceHashes
    ? async (piece: number, data: Uint8Array): Promise<PieceCheck> => {
        const expected = pieceHashes.subarray(piece * 20, piece * 20 + 20);
        if (!hashPool.digestLent)
          return { ok: bytesEqual(await hashPool.digest('sha1', data), expected), data };
        const lent = await hashPool.digestLent('sha1', data);
        return { ok: bytesEqual(lent.digest, expected), data: lent.data };
      }
    : async (piece: number, data: Uint8Array): Promise<PieceCheck> => ({
        ok: await checkV2(piece, data),
        data,
      });
  const progress = (done: number, total: number) => onCheckProgress(total === 0 ? 1 : done / total);
  const verifyStored = async (pieces?: readonly number[]): Promise<Bitfield> => {
    if (pieceHashes)
      return verifyV1(store, pieceHashes, { hashPool, onProgress: progress, ...(pieces ? { pieces } : {}) });
    const filePath = (store as Partial<FsStorage>).filePath?.bind(store);
    if (filePath)
      return verifyV2(metainfo, filePath, { hashPool, onProgress: progress, ...(pieces ? { pieces } : {}) });
    return verifyByReading(store, metainfo.pieceCount, checkV2, progress, pieces);
  };

  let have: Bitfield;
  if (options.isKnownComplete) {
    have = Bitfield.full(metainfo.pieceCount);
  } else {
    const record = await factory.loadResume(request);
    const current = await store.stat();
    const loaded = record.ok ? decodeResume(record.bytes, store.fileMap, codec, id) : record;
    if (loaded.ok) {
      const check = reconcileResume(loaded.data, current, store.fileMap);
      have = check.have;
      if (check.recheck.length > 0) for (const p of await verifyStored(check.recheck)) have.set(p);
    } else if (current.some((f) => f.exists && f.sizeBytes > 0)) {
      have = await verifyStored();
    } else {
      have = new Bitfield(metainfo.pieceCount);
    }
  }

  const storage: TorrentStorage = {
    readBlock: (piece, offset, length) => store.readBlock(piece, offset, length),
    readPiece: (piece) => store.readPiece(piece),
    writeBlock: (piece, offset, data) => store.writeBlock(piece, offset, data),
    writePiece: (piece, data) => store.writeBlock(piece, 0, data),
    setFilePriority: (file, priority) => store.setFilePriority(file, priority),
    saveResume: async (verified) => {
      const bytes = encodeResume(
        { have: verified, files: await store.stat(), torrentId: id },
        store.fileMap,
        codec,
      );
      await factory.saveResume(request, bytes);
    },
    // No fsync at shutdown: Ctrl-C must exit within 2 s however much data is dirty (libtorrent
    // makes the same trade); a power loss is caught by the resume mtimes or the piece hashes.
    close: () => store.close({ sync: false }),
  };
  return { storage, have, verifyPiece };
}

/** Check pieces by reading them through the storage (backends without files, e.g. memory). */
async function verifyByReading(
  store: Storage,
  pieceCount: number,
  check: (piece: number, data: Uint8Array) => Promise<boolean>,
  progress: (done: number, total: number) => void,
  pieces?: readonly number[],
): Promise<Bitfield> {
  const have = new Bitfield(pieceCount);
  const todo = pieces ?? Array.from({ length: pieceCount }, (_, i) => i);
  let done = 0;
  for (const p of todo) {
    if (await check(p, await store.readPiece(p))) have.set(p);
    progress(++done, todo.length);
  }
  return have;
}

/**
 * BEP 52 check of one piece of a v2-only torrent: files start on piece boundaries, so a piece
 * belongs to one file; its 16 KiB leaves must hash up to that file's piece-layer entry (or,
 * for a file of one piece, to the file's pieces root).
 */
function v2PieceChecker(m: Metainfo): (piece: number, data: Uint8Array) => Promise<boolean> {
  const pl = m.pieceLengthBytes;
  const owner: { file: TorrentFileEntry; index: number }[] = [];
  for (const f of m.files) {
    if (f.attributes.isPadding || f.lengthBytes === 0) continue;
    const first = f.offsetBytes / pl;
    const count = Math.ceil(f.lengthBytes / pl);
    for (let k = 0; k < count; k++) owner[first + k] = { file: f, index: k };
  }
  return async (piece, data) => {
    const o = owner[piece];
    if (!o?.file.piecesRoot) return false;
    const fileData = data.subarray(0, Math.min(pl, o.file.lengthBytes - o.index * pl));
    if (o.file.lengthBytes <= pl) return bytesEqual(merkleRoot(leafHashes(fileData)), o.file.piecesRoot);
    const layer = m.pieceLayers.get(binaryKey(o.file.piecesRoot));
    return layer !== undefined && verifyMerklePiece(fileData, o.index, layer, pl);
  };
}
