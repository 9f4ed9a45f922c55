import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { decode, encode } from '../bencode/index.js';
import { wireInfoHash } from '../metainfo/info-hash.js';
import type { Metainfo } from '../metainfo/types.js';
import { openFsStorage } from '../storage/fs-storage.js';
import type { HashPool } from '../storage/hash-pool.js';
import { loadResume, type ResumeCodec, saveResume } from '../storage/resume.js';
import type { FilePriority } from '../storage/storage.js';
import { verifyV1 } from '../storage/verify.js';
import { Bitfield } from '../util/bitfield.js';
import { bytesEqual } from '../util/bytes.js';
import { PeerdropError } from '../util/errors.js';
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
  if (!pieceHashes) {
    throw new PeerdropError(
      'TORRENT_V2_ONLY',
      `${metainfo.name}: v2-only torrents cannot be downloaded yet (v1 and hybrid torrents can)`,
    );
  }
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
  const verifyPiece = async (piece: number, data: Uint8Array) =>
    bytesEqual(await hashPool.digest('sha1', data), pieceHashes.subarray(piece * 20, piece * 20 + 20));
  const progress = (done: number, total: number) => onCheckProgress(total === 0 ? 1 : done / total);

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
        const rechecked = await verifyV1(fs, pieceHashes, {
          hashPool,
          pieces: loaded.check.recheck,
          onProgress: progress,
        });
        for (const p of rechecked) have.set(p);
      }
    } else if ((await fs.stat()).some((f) => f.exists && f.sizeBytes > 0)) {
      have = await verifyV1(fs, pieceHashes, { hashPool, onProgress: progress });
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
    close: () => fs.close(),
  };
  return { storage, have, verifyPiece };
}
