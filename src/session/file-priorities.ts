import { FileMap } from '../metainfo/file-map.js';
import type { Metainfo } from '../metainfo/types.js';
import type { PieceRange } from '../swarm/types.js';

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
