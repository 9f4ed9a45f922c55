import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { binaryKey, decode, encode } from '../bencode/index.js';
import { wireInfoHash } from '../metainfo/info-hash.js';
import { leafHashes, merkleRoot, verifyPiece as verifyMerklePiece } from '../metainfo/merkle.js';
import type { Metainfo, TorrentFileEntry } from '../metainfo/types.js';
import { openFsStorage } from '../storage/fs-storage.js';
import type { HashPool } from '../storage/hash-pool.js';
import { loadResume, type ResumeCodec, saveResume } from '../storage/resume.js';
import type { FilePriority } from '../storage/storage.js';
import { verifyV1, verifyV2 } from '../storage/verify.js';
import { Bitfield } from '../util/bitfield.js';
import { bytesEqual } from '../util/bytes.js';
import type { TorrentStorage } from './torrent.js';
import type { TorrentOptions } from './torrent-types.js';

/** What the session gets for a torrent: storage, the verified pieces, and the piece checker. */
export interface OpenedStorage {
  readonly storage: TorrentStorage;
  readonly have: Bitfield;
  readonly verifyPiece: (piece: number, data: Uint8Array) => Promise<boolean>;
}

const codec: ResumeCodec = { encode: (v) => encode(v as never), decode };

/**
 * Open a torrent's data folder on the storage layer and find out what is already there:
 * trust fast-resume data for unchanged files, re-check in the hash workers only the pieces
 * of files changed behind our back, and hash everything only when there is no usable record.
 * Storage state lives in `<dir>/.peerdrop/<info-hash>.{resume,parts}`.
 */
export async function openTorrentStorage(
  metainfo: Metainfo,
  options: TorrentOptions,
  wantedFiles: readonly boolean[],
  hashPool: HashPool,
  onCheckProgress: (fraction: number) => void,
): Promise<OpenedStorage> {
  const pieceHashes = metainfo.pieceHashes;
  const id = wireInfoHash(metainfo);
  const key = Buffer.from(id).toString('hex');
  const stateDir = join(options.dir, '.peerdrop');
  const resumePath = options.resumePath ?? join(stateDir, `${key}.resume`);
  await mkdir(stateDir, { recursive: true });
  const fs = await openFsStorage(metainfo, {
    rootDir: options.dir,
    hashPool,
    partsPath: join(stateDir, `${key}.parts`),
    priorities: wantedFiles.map((w): FilePriority => (w ? 4 : 0)),
  });
  const verifyPiece = pieceHashes
    ? async (piece: number, data: Uint8Array) =>
        bytesEqual(await hashPool.digest('sha1', data), pieceHashes.subarray(piece * 20, piece * 20 + 20))
    : v2PieceChecker(metainfo);
  const progress = (done: number, total: number) => onCheckProgress(total === 0 ? 1 : done / total);
  const verifyStored = (pieces?: readonly number[]) =>
    pieceHashes
      ? verifyV1(fs, pieceHashes, { hashPool, onProgress: progress, ...(pieces ? { pieces } : {}) })
      : verifyV2(metainfo, (i) => fs.filePath(i), {
          hashPool,
          onProgress: progress,
          ...(pieces ? { pieces } : {}),
        });

  let have: Bitfield;
  if (options.isKnownComplete) {
    have = Bitfield.full(metainfo.pieceCount);
  } else {
    const loaded = await loadResume(resumePath, {
      map: fs.fileMap,
      codec,
      current: await fs.stat(),
      torrentId: id,
    });
    if (loaded.ok) {
      have = loaded.check.have;
      if (loaded.check.recheck.length > 0) {
        for (const p of await verifyStored(loaded.check.recheck)) have.set(p);
      }
    } else if ((await fs.stat()).some((f) => f.exists && f.sizeBytes > 0)) {
      have = await verifyStored();
    } else {
      have = new Bitfield(metainfo.pieceCount);
    }
  }

  const storage: TorrentStorage = {
    readBlock: (piece, offset, length) => fs.readBlock(piece, offset, length),
    readPiece: (piece) => fs.readPiece(piece),
    writeBlock: (piece, offset, data) => fs.writeBlock(piece, offset, data),
    writePiece: (piece, data) => fs.writeBlock(piece, 0, data),
    saveResume: async (verified) => {
      await mkdir(dirname(resumePath), { recursive: true });
      await saveResume(
        resumePath,
        { have: verified, files: await fs.stat(), torrentId: id },
        fs.fileMap,
        codec,
      );
    },
    // No fsync at shutdown: Ctrl-C must exit within 2 s however much data is dirty (libtorrent
    // makes the same trade); a power loss is caught by the resume mtimes or the piece hashes.
    close: () => fs.close({ sync: false }),
  };
  return { storage, have, verifyPiece };
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
