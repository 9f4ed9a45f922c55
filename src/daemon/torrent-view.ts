/**
 * How a torrent record becomes what the API shows (`TorrentView`), and what a record's stored
 * bytes say (its metainfo, a first snapshot, the `.torrent` kept for a magnet): the pure parts
 * of the daemon's queries, apart from daemon.ts, which owns the state they read.
 */
import { encode } from '../bencode/index.js';
import type { FileRisk } from '../metainfo/file-risk.js';
import { parseMagnet, parseMetainfo } from '../metainfo/index.js';
import type { MagnetLink, Metainfo } from '../metainfo/types.js';
import { idleTorrentStatus, type TorrentStatus } from '../session/torrent-types.js';
import { concatBytes } from '../util/bytes.js';
import type { TorrentView } from './daemon-types.js';
import { initialSnapshot } from './dormant.js';
import type { TorrentRecord, TorrentSnapshot } from './store.js';

/** One empty list for every view without warnings: the view cache compares by identity. */
export const NO_RISKS: readonly FileRisk[] = Object.freeze([]);

/** What the daemon adds to the engine's (or the snapshot's) status. */
export interface ViewExtras {
  readonly isQueued: boolean;
  readonly queuePosition: number | null;
  readonly seededSeconds: number;
  readonly warnings: readonly FileRisk[];
}

/**
 * Listed field by field, not spread: one object shape for every view (spreading the engine's
 * status made each view a dictionary-mode object, ~50 µs apiece at 1,000 torrents).
 */
export function buildView(
  record: TorrentRecord,
  status: TorrentStatus,
  metainfo: Metainfo | null,
  extras: ViewExtras,
): TorrentView {
  return {
    infoHash: status.infoHash,
    name: status.name,
    state: extras.isQueued ? 'queued' : status.state,
    progress: status.progress,
    wantedBytes: status.wantedBytes,
    verifiedBytes: status.verifiedBytes,
    downloadedBytes: status.downloadedBytes,
    uploadedBytes: status.uploadedBytes,
    downloadRate: status.downloadRate,
    uploadRate: status.uploadRate,
    peers: status.peers,
    seeds: status.seeds,
    etaSeconds: status.etaSeconds,
    error: status.error,
    id: record.id,
    queuePosition: extras.queuePosition,
    seededSeconds: extras.seededSeconds,
    warnings: extras.warnings,
    downloadDir: record.downloadDir,
    addedAtMs: record.addedAtMs,
    labels: record.labels,
    limits: record.limits,
    seedGoals: record.seedGoals,
    magnet: record.magnet,
    totalBytes: metainfo?.totalLengthBytes ?? record.snapshot?.totalBytes ?? null,
    fileCount: metainfo?.files.length ?? record.snapshot?.fileCount ?? null,
  };
}

/** The status of a torrent whose start failed (shown with its error until removed). */
export function brokenStatus(record: TorrentRecord, error: string | null): TorrentStatus {
  return idleTorrentStatus(record.infoHash, record.infoHash, error ? 'error' : 'stopped', error);
}

/** The metainfo in a record's `.torrent` bytes (null for a magnet, or bytes that no longer parse). */
export function metainfoOf(record: TorrentRecord): Metainfo | null {
  if (record.source.kind !== 'torrent') return null;
  try {
    return parseMetainfo(record.source.bytes);
  } catch {
    return null;
  }
}

/** The snapshot of a record that never had one (a file written before snapshots). */
export function firstSnapshot(record: TorrentRecord): TorrentSnapshot {
  const magnet = record.source.kind === 'magnet' ? safeMagnet(record.source.uri) : null;
  return initialSnapshot(record.infoHash, metainfoOf(record), magnet);
}

function safeMagnet(uri: string): MagnetLink | null {
  try {
    return parseMagnet(uri);
  } catch {
    return null;
  }
}

export function safeTrackers(uri: string): string[] {
  return [...(safeMagnet(uri)?.trackers ?? [])];
}

/** A `.torrent` around exact info bytes (the info-hash is of those bytes, never re-encoded). */
export function torrentBytes(infoBytes: Uint8Array, trackers: readonly string[]): Uint8Array {
  const head: Uint8Array[] = [new TextEncoder().encode('d')];
  if (trackers.length > 0) {
    const outer = encode({ announce: trackers[0]!, 'announce-list': trackers.map((t) => [t]) });
    head.push(outer.subarray(1, outer.length - 1));
  }
  return concatBytes([...head, new TextEncoder().encode('4:info'), infoBytes, new TextEncoder().encode('e')]);
}
