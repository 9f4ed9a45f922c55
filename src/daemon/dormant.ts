/**
 * Torrents the daemon keeps out of the engine: paused by the user, or waiting in the queue.
 * They hold no storage, peer book, sources or timers, announce nothing and dial no one; what
 * the API shows of them is the snapshot of their last status kept in their record. A restart
 * with 1,000 paused torrents then opens no files (it used to open each one's storage, start
 * it, announce `started`, and pause it again, writing its resume record).
 */
import { type FileRisk, nameRisks } from '../metainfo/file-risk.js';
import type { MagnetLink, Metainfo } from '../metainfo/types.js';
import { createTorrentHandle, type TorrentHandle } from '../session/torrent-handle.js';
import type { TorrentState, TorrentStatus } from '../session/torrent-types.js';
import { PeerdropError } from '../util/errors.js';
import type { TorrentRecord, TorrentSnapshot } from './store.js';

/** A snapshot of a running torrent's status (before it leaves the engine, or as it completes). */
export function snapshotOf(status: TorrentStatus, metainfo: Metainfo | null): TorrentSnapshot {
  return {
    name: status.name,
    progress: status.progress,
    wantedBytes: status.wantedBytes,
    verifiedBytes: status.verifiedBytes,
    downloadedBytes: status.downloadedBytes,
    uploadedBytes: status.uploadedBytes,
    totalBytes: metainfo?.totalLengthBytes ?? null,
    fileCount: metainfo?.files.length ?? null,
    nameRisks: risksOf(metainfo),
  };
}

function risksOf(metainfo: Metainfo | null): FileRisk[] {
  return metainfo
    ? metainfo.files.filter((f) => !f.attributes.isPadding).flatMap((f) => nameRisks(f.path))
    : [];
}

/** The snapshot of a torrent that never ran: nothing verified yet (its data is checked when it starts). */
export function initialSnapshot(
  infoHash: string,
  metainfo: Metainfo | null,
  magnet: MagnetLink | null,
): TorrentSnapshot {
  return {
    name: metainfo?.name ?? magnet?.name ?? infoHash,
    progress: 0,
    wantedBytes: 0,
    verifiedBytes: 0,
    downloadedBytes: 0,
    uploadedBytes: 0,
    totalBytes: metainfo?.totalLengthBytes ?? null,
    fileCount: metainfo?.files.length ?? null,
    nameRisks: risksOf(metainfo),
  };
}

/** The status the API shows of a dormant torrent: its snapshot, moving nothing. */
export function dormantStatus(record: TorrentRecord): TorrentStatus {
  const s = record.snapshot;
  const state: TorrentState = record.state === 'paused' ? 'paused' : 'stopped';
  return {
    infoHash: record.infoHash,
    name: s?.name ?? record.infoHash,
    state,
    progress: s?.progress ?? 0,
    wantedBytes: s?.wantedBytes ?? 0,
    verifiedBytes: s?.verifiedBytes ?? 0,
    downloadedBytes: s?.downloadedBytes ?? 0,
    uploadedBytes: s?.uploadedBytes ?? 0,
    downloadRate: 0,
    uploadRate: 0,
    peers: 0,
    seeds: 0,
    etaSeconds: null,
    error: null,
  };
}

/** What a dormant torrent's handle does when asked to run or stop: the daemon decides. */
export interface DormantControl {
  resume(): Promise<void>;
  pause(): Promise<void>;
  remove(): Promise<void>;
}

/**
 * A handle for a torrent out of the engine, so callers that read a handle (the file stream, the
 * peer and tracker lists) work the same for it: no peers, no sources, its metainfo and snapshot.
 */
export function dormantHandle(
  record: TorrentRecord,
  metainfo: Metainfo | null,
  control: DormantControl,
): TorrentHandle {
  const notRunning = () =>
    Promise.reject(
      new PeerdropError('TORRENT_NOT_RUNNING', 'file priorities are applied when the torrent runs'),
    );
  return createTorrentHandle({
    infoHash: record.infoHash,
    metainfo: () => metainfo,
    status: () => dormantStatus(record),
    isDone: () => false,
    addPeer: () => {},
    pause: () => control.pause(),
    resume: () => control.resume(),
    remove: () => control.remove(),
    setFilePriority: notRunning,
    filePriorities: () => null,
    setLimits: () => {},
    peers: () => [],
    trackers: () => [],
    files: () => null,
  }).handle;
}
