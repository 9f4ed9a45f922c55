import {
  type BuildFile,
  buildTorrent,
  layoutFiles,
  sortFilesForVersion,
  TorrentBuildError,
  type TorrentOptions,
} from '../metainfo/build.js';
import { magnetFromMetainfo } from '../metainfo/magnet.js';
import {
  fileMerkleFromPieceRoots,
  MERKLE_BLOCK_BYTES,
  MERKLE_HASH_BYTES,
  merkleRoot,
} from '../metainfo/merkle.js';
import { parseMetainfo } from '../metainfo/parse.js';
import { autoPieceLength, pieceLengthProblem } from '../metainfo/piece-length.js';
import type { TorrentVersion } from '../metainfo/types.js';
import { hashLinearV1 } from './create/linear-hash.js';
import { type Content, type ContentFile, walkContent } from './create/walk.js';
import { createHashPool, type FileRange, type HashPool, ZERO_FILL_PATH } from './hash-pool.js';

export {
  type Content,
  type ContentFile,
  type CreateErrorCode,
  CreateTorrentError,
  walkContent,
} from './create/walk.js';

/**
 * `peerdrop create`: walk a file or folder, hash it in worker threads and build the `.torrent`.
 *
 * Files are read with positional reads into fixed buffers, so memory does not grow with the
 * data (the piece hashes themselves, 20 bytes a piece, are the only thing that does). v1 (the
 * default) is hashed by the main thread and its own workers (create/linear-hash.ts); v2 and
 * hybrid, and any caller that hands in a pool, go through the hash pool's workers. Order and layout follow
 * `src/metainfo/build.ts` (mktorrent for v1, libtorrent for v2 and hybrid).
 *
 * Hybrid: the v2 pass hashes 16 KiB blocks of each file; the v1 pass hashes the pieces, where
 * the last piece of a file followed by BEP 47 padding ends with zero-fill ranges (never read).
 */

export interface CreateProgress {
  /** Content bytes hashed so far (a hybrid hashes twice; this counts the average of both passes). */
  readonly hashedBytes: number;
  readonly totalBytes: number;
}

export interface CreateTorrentOptions extends TorrentOptions {
  /** Default `v1` (what every client reads). */
  readonly version?: TorrentVersion;
  /** Default: `autoPieceLength(total)`. Must pass `pieceLengthProblem`. */
  readonly pieceLengthBytes?: number;
  /** These files instead of walking `inputPath` (the handoff's several paths in one torrent). */
  readonly content?: Content;
  /** Use this pool (not closed afterwards) instead of a new one with `threads` workers. */
  readonly hashPool?: HashPool;
  readonly threads?: number;
  /**
   * v1: the main thread hashes too, from the first millisecond (`threads` then counts it).
   * For a CLI run; a daemon keeps its event loop free (the default, false).
   */
  readonly hashOnMainThread?: boolean;
  /** Called after each batch of pieces is hashed. */
  readonly onProgress?: (progress: CreateProgress) => void;
  readonly signal?: AbortSignal;
}

export interface CreatedFile {
  readonly path: readonly string[];
  readonly lengthBytes: number;
}

export interface CreateTorrentResult {
  readonly torrentBytes: Uint8Array;
  readonly infoBytes: Uint8Array;
  readonly infoHash: Uint8Array | null;
  readonly infoHashV2: Uint8Array | null;
  readonly magnet: string;
  readonly name: string;
  readonly version: TorrentVersion;
  readonly pieceLengthBytes: number;
  /** Sum of the file lengths (padding excluded). */
  readonly totalLengthBytes: number;
  /** v1/hybrid: pieces of the linear space; v2: the sum of every file's pieces. */
  readonly pieceCount: number;
  readonly isSingleFile: boolean;
  /** Files in torrent order, padding excluded; paths relative to the torrent's folder. */
  readonly files: readonly CreatedFile[];
}

/** Create a torrent of `inputPath` (a file or a folder). */
export async function createTorrent(
  inputPath: string,
  options: CreateTorrentOptions = {},
): Promise<CreateTorrentResult> {
  const version = options.version ?? 'v1';
  // v1 without a caller's pool hashes on the main thread and its own workers (hashLinearV1);
  // the others use the hash pool, whose workers load while the tree is walked.
  const isLinear = version === 'v1' && options.hashPool === undefined;
  const pool = isLinear
    ? null
    : (options.hashPool ?? createHashPool(options.threads ? { threads: options.threads } : {}));
  pool?.warmUp();
  try {
    const content = options.content ?? (await walkContent(inputPath, options.signal));
    const files = sortFilesForVersion(content.files, version);
    const totalBytes = files.reduce((n, f) => n + f.lengthBytes, 0);
    const pieceLength = options.pieceLengthBytes ?? autoPieceLength(totalBytes);
    const problem = pieceLengthProblem(pieceLength);
    if (problem) throw new TorrentBuildError('BUILD_BAD_PIECE_LENGTH', problem);
    const progress = new ProgressCounter(totalBytes, version === 'hybrid' ? 2 : 1, options.onProgress);
    const hashed: HashedContent = { pieceHashes: undefined, merkle: [] };
    if (pool === null) {
      let reported = 0;
      hashed.pieceHashes = await hashLinearV1(files, pieceLength, {
        ...(options.threads ? { threads: options.threads } : {}),
        isMainHashing: options.hashOnMainThread === true,
        signal: options.signal,
        onProgress: (done) => {
          progress.add((done - reported) * pieceLength);
          reported = done;
        },
      });
    } else {
      if (version !== 'v1') hashed.merkle = await hashV2(pool, files, pieceLength, progress, options.signal);
      if (version !== 'v2')
        hashed.pieceHashes = await hashV1(pool, files, pieceLength, version, progress, options.signal);
    }
    const buildFiles: BuildFile[] = files.map((f, i) => ({
      path: f.path,
      lengthBytes: f.lengthBytes,
      isExecutable: f.isExecutable,
      ...hashed.merkle[i],
    }));
    const built = buildTorrent({
      name: content.name,
      version,
      isSingleFile: content.isSingleFile,
      files: buildFiles,
      pieceLengthBytes: pieceLength,
      ...(hashed.pieceHashes ? { pieceHashes: hashed.pieceHashes } : {}),
      options,
    });
    // Parse what we built: the same checks any client applies, and the magnet from the result.
    // 'sanitize': a tree with names differing only in case is fine on this disk but refused by
    // default (portable paths); it is still a valid torrent.
    const parsed = parseMetainfo(built.torrentBytes, { unsafePaths: 'sanitize' });
    return {
      ...built,
      magnet: magnetFromMetainfo(parsed),
      name: content.name,
      version,
      pieceLengthBytes: pieceLength,
      totalLengthBytes: totalBytes,
      pieceCount: parsed.pieceCount,
      isSingleFile: content.isSingleFile,
      files: files.map((f) => ({ path: f.path, lengthBytes: f.lengthBytes })),
    };
  } finally {
    if (pool !== null && !options.hashPool) await pool.close();
  }
}

interface HashedContent {
  pieceHashes: Uint8Array | undefined;
  merkle: { piecesRoot?: Uint8Array; pieceLayer?: Uint8Array }[];
}

class ProgressCounter {
  private done = 0;
  constructor(
    private readonly totalBytes: number,
    private readonly passes: number,
    private readonly onProgress: ((p: CreateProgress) => void) | undefined,
  ) {}

  add(bytes: number): void {
    this.done += bytes;
    const hashedBytes = Math.min(this.totalBytes, Math.floor(this.done / this.passes));
    this.onProgress?.({ hashedBytes, totalBytes: this.totalBytes });
  }
}

/** v1 pieces over the files laid end to end (pieces cross file boundaries). */
function* linearPieces(files: readonly ContentFile[], pieceLength: number): Generator<FileRange[]> {
  let piece: FileRange[] = [];
  let filled = 0;
  for (const f of files) {
    for (let off = 0; off < f.lengthBytes; ) {
      const take = Math.min(pieceLength - filled, f.lengthBytes - off);
      piece.push({ path: f.fsPath, offset: off, length: take });
      off += take;
      filled += take;
      if (filled === pieceLength) {
        yield piece;
        piece = [];
        filled = 0;
      }
    }
  }
  if (filled > 0) yield piece;
}

async function hashV1(
  pool: HashPool,
  files: readonly ContentFile[],
  pieceLength: number,
  version: TorrentVersion,
  progress: ProgressCounter,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const layout = layoutFiles(
    files.map((f) => f.lengthBytes),
    pieceLength,
    version,
  );
  const pieceCount = Math.ceil(layout.storageLengthBytes / pieceLength);
  const out = new Uint8Array(pieceCount * 20);
  if (version === 'v1') {
    let at = 0;
    for await (const { digest } of pool.hashPiecesIter({
      algorithm: 'sha1',
      pieces: linearPieces(files, pieceLength),
      signal,
    })) {
      out.set(digest!, at);
      at += 20;
      progress.add(pieceLength);
    }
    return out;
  }
  // Hybrid: every file starts on a piece boundary, so each piece belongs to one file; a file's
  // last piece ends with the zeros of the BEP 47 padding that follows it.
  const indices: number[] = [];
  function* pieces(): Generator<FileRange[]> {
    for (const [i, f] of files.entries()) {
      const first = layout.offsets[i]! / pieceLength;
      for (let off = 0, k = 0; off < f.lengthBytes; off += pieceLength, k++) {
        const length = Math.min(pieceLength, f.lengthBytes - off);
        indices.push(first + k);
        const pad = length < pieceLength ? layout.padAfter[i]! : 0;
        const data = { path: f.fsPath, offset: off, length };
        yield pad > 0 ? [data, { path: ZERO_FILL_PATH, offset: 0, length: pad }] : [data];
      }
    }
  }
  for await (const { index, digest } of pool.hashPiecesIter({
    algorithm: 'sha1',
    pieces: pieces(),
    signal,
  })) {
    out.set(digest!, indices[index]! * 20);
    progress.add(pieceLength);
  }
  return out;
}

/** v2: per file, the 16 KiB block leaves of each piece, combined into roots and piece layers. */
async function hashV2(
  pool: HashPool,
  files: readonly ContentFile[],
  pieceLength: number,
  progress: ProgressCounter,
  signal: AbortSignal | undefined,
): Promise<HashedContent['merkle']> {
  const owner: number[] = [];
  function* pieces(): Generator<FileRange[]> {
    for (const [i, f] of files.entries()) {
      for (let off = 0; off < f.lengthBytes; off += pieceLength) {
        owner.push(i);
        yield [{ path: f.fsPath, offset: off, length: Math.min(pieceLength, f.lengthBytes - off) }];
      }
    }
  }
  const roots: Uint8Array[][] = files.map(() => []);
  for await (const { index, digest } of pool.hashPiecesIter({
    algorithm: 'sha256',
    mode: 'blocks',
    pieces: pieces(),
    signal,
  })) {
    const leaves: Uint8Array[] = [];
    for (let at = 0; at < digest!.length; at += MERKLE_HASH_BYTES)
      leaves.push(digest!.subarray(at, at + MERKLE_HASH_BYTES));
    roots[owner[index]!]!.push(merkleRoot(leaves));
    progress.add((leaves.length - 1) * MERKLE_BLOCK_BYTES + MERKLE_BLOCK_BYTES);
  }
  return files.map((f, i) => {
    if (f.lengthBytes === 0) return {};
    const lastPieceBytes = f.lengthBytes - (roots[i]!.length - 1) * pieceLength;
    const m = fileMerkleFromPieceRoots(
      roots[i]!,
      Math.ceil(lastPieceBytes / MERKLE_BLOCK_BYTES),
      pieceLength,
    );
    return m.pieceLayer.length > 0
      ? { piecesRoot: m.root, pieceLayer: m.pieceLayer }
      : { piecesRoot: m.root };
  });
}
