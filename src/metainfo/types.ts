/**
 * The parsed, validated form of a torrent (BEP 3 v1, BEP 52 v2, hybrid) and of a magnet link.
 * Everything here has passed validation: paths are safe components, lengths are consistent.
 */

/** BEP 47 file attributes: `p` padding, `x` executable, `h` hidden, `l` symlink. */
export interface FileAttributes {
  readonly isPadding: boolean;
  readonly isExecutable: boolean;
  readonly isHidden: boolean;
  readonly isSymlink: boolean;
}

export interface TorrentFileEntry {
  /**
   * Path components relative to the download folder, already validated by the safe-path
   * rules. For a multi-file torrent the first component is the torrent's name (as libtorrent
   * does); for a single-file torrent it is just `[name]`.
   */
  readonly path: readonly string[];
  readonly lengthBytes: number;
  /** Byte offset of the file in the torrent's linear piece space (v1 layout, padding included). */
  readonly offsetBytes: number;
  readonly attributes: FileAttributes;
  /** BEP 47 symlink target components (only when `attributes.isSymlink`). */
  readonly symlinkPath?: readonly string[];
  /** BEP 52: SHA-256 merkle root of this file's 16 KiB blocks (absent for empty files and v1). */
  readonly piecesRoot?: Uint8Array;
}

export type TorrentVersion = 'v1' | 'v2' | 'hybrid';

export interface Metainfo {
  readonly version: TorrentVersion;
  /** SHA-1 of the exact `info` bytes (v1 and hybrid), else null. */
  readonly infoHash: Uint8Array | null;
  /** SHA-256 of the exact `info` bytes (v2 and hybrid), else null. */
  readonly infoHashV2: Uint8Array | null;
  readonly name: string;
  readonly pieceLengthBytes: number;
  readonly pieceCount: number;
  /** Sum of file lengths, padding files excluded. */
  readonly totalLengthBytes: number;
  /** Length of the linear piece space (padding included); what the pieces cover. */
  readonly storageLengthBytes: number;
  /** All files in torrent order, padding files included (flagged in `attributes`). */
  readonly files: readonly TorrentFileEntry[];
  /** True for a single-file (v1 `length`) torrent. */
  readonly isSingleFile: boolean;
  /** v1 piece hashes, 20 bytes each, concatenated (null for pure v2). */
  readonly pieceHashes: Uint8Array | null;
  /** BEP 52 piece layers: key is a file's pieces root as a binary string (see bencode types). */
  readonly pieceLayers: ReadonlyMap<string, Uint8Array>;
  readonly isPrivate: boolean;
  /** BEP 12 tiers; a lone `announce` becomes one tier. */
  readonly announceTiers: readonly (readonly string[])[];
  /** BEP 19 web seeds. */
  readonly urlList: readonly string[];
  /** DHT bootstrap nodes from `nodes`. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  readonly comment?: string;
  readonly createdBy?: string;
  /** Seconds since the epoch. */
  readonly creationDate?: number;
  /** The `source` key inside info (private trackers), if any. */
  readonly source?: string;
  /** The exact bytes of the `info` dictionary, as hashed. */
  readonly infoBytes: Uint8Array;
}

export interface MagnetLink {
  /** v1 info-hash from `xt=urn:btih:` (hex or base32), or null. */
  readonly infoHash: Uint8Array | null;
  /** v2 info-hash from `xt=urn:btmh:1220…`, or null. */
  readonly infoHashV2: Uint8Array | null;
  readonly name?: string;
  readonly trackers: readonly string[];
  readonly webSeeds: readonly string[];
  /** `x.pe` peer addresses as given (`host:port`, `[v6]:port`). */
  readonly peers: readonly string[];
  readonly exactLengthBytes?: number;
  /** BEP 53 `so=` file indices, ranges expanded. */
  readonly selectOnly?: readonly number[];
}
