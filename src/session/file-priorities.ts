import { FileMap } from '../metainfo/file-map.js';
import type { Metainfo } from '../metainfo/types.js';
import type { FilePriority } from '../storage/storage.js';
import type { PieceRange } from '../swarm/types.js';
import type { Bitfield } from '../util/bitfield.js';
import type { FileStatus } from './torrent-types.js';

/**
 * Priority per torrent file: `selected` indexes the files as users see them (padding files
 * skipped, as `peerdrop info` lists them, from 0); padding is never wanted for itself.
 */
export function filePriorities(metainfo: Metainfo, selected: readonly number[] | undefined): number[] {
  const wanted = selected ? new Set(selected) : null;
  let visible = 0;
  return metainfo.files.map((f) => {
    if (f.attributes.isPadding) return 0;
    const index = visible++;
    return wanted === null || wanted.has(index) ? 4 : 0;
  });
}

/** The pieces each file touches, in the picker's terms. */
export function filePieceRanges(metainfo: Metainfo): PieceRange[] {
  const map = FileMap.fromMetainfo(metainfo);
  return metainfo.files.map((_, i) => {
    const r = map.pieceRangeForFile(i);
    return { firstPiece: r.first, endPiece: r.endExclusive };
  });
}

/** Indices in the torrent's file list of the files users see (padding skipped), in order. */
export function userFileIndices(metainfo: Metainfo): number[] {
  const out: number[] = [];
  for (const [i, f] of metainfo.files.entries()) if (!f.attributes.isPadding) out.push(i);
  return out;
}

/** User-order priorities to one per torrent file (padding files get 0). */
export function expandUserPriorities(
  metainfo: Metainfo,
  priorities: readonly FilePriority[],
): FilePriority[] {
  const out: FilePriority[] = metainfo.files.map(() => 0);
  for (const [k, i] of userFileIndices(metainfo).entries()) out[i] = priorities[k] ?? 0;
  return out;
}

/** Per user-visible file: its bytes inside verified pieces, and its priority. */
export function fileStatuses(
  metainfo: Metainfo,
  have: Bitfield,
  priorities: readonly number[],
): FileStatus[] {
  const pl = metainfo.pieceLengthBytes;
  return userFileIndices(metainfo).map((i, index) => {
    const f = metainfo.files[i]!;
    let verified = 0;
    if (f.lengthBytes > 0) {
      const first = Math.floor(f.offsetBytes / pl);
      const last = Math.floor((f.offsetBytes + f.lengthBytes - 1) / pl);
      for (let p = first; p <= last; p++) {
        if (!have.get(p)) continue;
        verified += Math.min(f.offsetBytes + f.lengthBytes, (p + 1) * pl) - Math.max(f.offsetBytes, p * pl);
      }
    }
    return {
      index,
      path: f.path.join('/'),
      lengthBytes: f.lengthBytes,
      verifiedBytes: verified,
      priority: priorities[i] ?? 0,
    };
  });
}
