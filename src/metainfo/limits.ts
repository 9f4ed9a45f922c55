import type { DecodeOptions } from '../bencode/index.js';

/**
 * Every bound peerdrop puts on what a torrent may describe, in one place. They are checked
 * before anything is built from the input, and they agree with each other: a torrent within
 * `maxFileCount` files and `maxTorrentBytes` bytes always fits the bencode limits derived here.
 *
 * | limit                     | value      | why                                                        |
 * |---------------------------|------------|------------------------------------------------------------|
 * | `.torrent` size           | 64 MiB     | ~1,000,000 files at ~60 bytes each; BEP 9 metadata is less |
 * | files                     | 1,000,000  | the largest torrents in the wild hold a few hundred thousand |
 * | bencode values            | 17,000,000 | `VALUES_PER_FILE` (16) × files + `VALUES_OUTSIDE_FILES`     |
 * | nesting                   | 64         | a v2 file tree is as deep as its deepest path + 3          |
 * | pieces                    | 4,194,304  | 2^22, libtorrent's default `max_pieces`                    |
 * | piece length              | 16 KiB–256 MiB, a power of two (BEP 52; mktorrent `-l 28`) |
 * | total length              | 1 PiB      | keeps every offset a safe integer                          |
 * | path depth                | 128 components                                              |
 * | path length               | 4096 UTF-8 bytes (Linux PATH_MAX), components 255 bytes (NAME_MAX) |
 *
 * Magnet links have their own bounds (`MAX_MAGNET_LENGTH`, `MAX_MAGNET_PARAMS` in `magnet.ts`).
 *
 * Memory: a decoded value costs 60–190 bytes of heap (a `Map` per dictionary, a `Uint8Array`
 * view per string), so the value limit, not the byte limit, is what bounds the decoder's heap.
 * A real 1,000,000-file torrent needs about 7 values a file and its parsed form holds ~300 MB;
 * a hostile torrent within the limits could hold ~17,000,000 two-byte strings (~2 GB of heap);
 * the decoder refuses any input whose values would take more than 24× its size in heap (a
 * non-allocating pre-scan, `maxHeapPerInputByte` in `bencode/decode.ts`) before building one.
 */
export interface MetainfoLimits {
  /** Whole `.torrent` file (the bencode decoder refuses larger input before parsing). */
  readonly maxTorrentBytes: number;
  /** Largest piece length: 256 MiB (mktorrent's `-l 28`; nothing larger is made in practice). */
  readonly maxPieceLengthBytes: number;
  /** Sum of all file lengths, padding included: 1 PiB. */
  readonly maxTotalLengthBytes: number;
  readonly maxFileCount: number;
  readonly maxPieceCount: number;
}

export const DEFAULT_METAINFO_LIMITS: MetainfoLimits = {
  maxTorrentBytes: 64 * 1024 * 1024,
  maxPieceLengthBytes: 256 * 1024 * 1024,
  maxTotalLengthBytes: 2 ** 50,
  maxFileCount: 1_000_000,
  maxPieceCount: 1 << 22,
};

/** Deepest path, in components. */
export const MAX_PATH_DEPTH = 128;
/** Longest relative path (components joined with `/`), in UTF-8 bytes (Linux PATH_MAX). */
export const MAX_PATH_BYTES = 4096;
/** Longest component, in UTF-8 bytes (ext4, XFS, btrfs and NTFS all stop near 255). */
export const MAX_COMPONENT_BYTES = 255;

/**
 * Bencode values one file may use. A v1 entry is `{length, path: [...]}`: 5 values plus one per
 * component; `path.utf-8`, `attr`, `md5sum`, `mtime` or a BEP 47 `symlink path` add 2 each (plus
 * components). A v2 leaf is `name: {"": {length, pieces root}}`: 8 values, a folder 2 more.
 * 16 covers a 4-component path given twice (`path` and `path.utf-8`) with an `attr`.
 */
export const VALUES_PER_FILE = 16;
/** Everything else: trackers, web seeds, DHT nodes, comments, `piece layers`. */
export const VALUES_OUTSIDE_FILES = 1_000_000;
/** Nesting allowed for a torrent: the deepest path as a v2 file tree, plus the dicts around it. */
export const MAX_TORRENT_NESTING = MAX_PATH_DEPTH + 8;

/** The bencode decoder's limits for a torrent, derived from the metainfo limits above. */
export function torrentDecodeLimits(limits: MetainfoLimits): DecodeOptions {
  return {
    maxBytes: limits.maxTorrentBytes,
    maxItems: limits.maxFileCount * VALUES_PER_FILE + VALUES_OUTSIDE_FILES,
    maxDepth: MAX_TORRENT_NESTING,
  };
}
