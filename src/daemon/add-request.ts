/**
 * An add request checked and turned into the record to store: exactly one of a `.torrent` or a
 * magnet, parsed first (bad input is a 400 and the info-hash names the record), file indices
 * checked against the torrent. Pure; the daemon resolves the folder and stores the record.
 */
import { magnetFromMetainfo, parseMagnet, parseMetainfo, wireInfoHash } from '../metainfo/index.js';
import type { MagnetLink, Metainfo } from '../metainfo/types.js';
import { PeerdropError } from '../util/errors.js';
import type { AddRequest } from './daemon-types.js';
import { initialSnapshot } from './dormant.js';
import type { NewTorrentRecord } from './store.js';

export interface ParsedAdd {
  readonly infoHash: string;
  readonly metainfo: Metainfo | null;
  readonly magnet: MagnetLink | null;
  /** 4 for the files asked for, 0 for the others; null when every file is wanted. */
  readonly priorities: number[] | null;
}

export function parseAddRequest(request: AddRequest): ParsedAdd {
  if ((request.torrent !== undefined) === (request.magnet !== undefined))
    throw new PeerdropError('DAEMON_BAD_REQUEST', 'give exactly one of a .torrent file or a magnet link');
  const metainfo = request.torrent ? parseMetainfo(request.torrent) : null;
  const magnet = request.magnet !== undefined ? parseMagnet(request.magnet) : null;
  const infoHash = Buffer.from(metainfo ? wireInfoHash(metainfo) : wireInfoHash(magnet!)).toString('hex');
  let priorities: number[] | null = null;
  if (request.files && metainfo) {
    const wanted = new Set(request.files);
    for (const i of wanted)
      if (!Number.isInteger(i) || i < 0 || i >= metainfo.files.length)
        throw new PeerdropError('DAEMON_BAD_REQUEST', `file index ${i} is not in the torrent`);
    priorities = metainfo.files.map((_, i) => (wanted.has(i) ? 4 : 0));
  }
  return { infoHash, metainfo, magnet, priorities };
}

/** The record of a new torrent (never run: its snapshot shows nothing verified yet). */
export function newRecord(
  request: AddRequest,
  parsed: ParsedAdd,
  downloadDir: string,
  addedAtMs: number,
): NewTorrentRecord {
  const { infoHash, metainfo, magnet } = parsed;
  return {
    infoHash,
    source: request.torrent
      ? { kind: 'torrent', bytes: request.torrent }
      : { kind: 'magnet', uri: request.magnet! },
    magnet: metainfo ? magnetFromMetainfo(metainfo) : request.magnet!,
    downloadDir,
    state: request.isPaused ? 'paused' : 'active',
    addedAtMs,
    labels: [...(request.labels ?? [])],
    filePriorities: parsed.priorities,
    limits: { downloadBps: null, uploadBps: null },
    seedGoals: { ratio: null, seedSeconds: null },
    snapshot: initialSnapshot(infoHash, metainfo, magnet),
  };
}
