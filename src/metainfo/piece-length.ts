/**
 * Piece length for new torrents.
 *
 * Automatic choice: the smallest power of two, from 16 KiB (BEP 52's block, the least a
 * piece can be) to 16 MiB, that keeps the torrent at or under `TARGET_MAX_PIECES` pieces. So a
 * torrent larger than 16 KiB × 2000 (~31 MiB) gets between 1000 and 2000 pieces until the
 * 16 MiB cap (at ~31 GiB), beyond which the count grows. Why 1000–2000: the v1 `pieces` string
 * (20 bytes a piece) stays under 40 KiB, so the metadata a magnet fetches is small, while a piece
 * is still small enough that a bad peer costs little and a new peer has something to share soon.
 * (libtorrent aims at a similar count; mktorrent leaves it to the user.)
 */

/** BEP 52: a piece is at least one 16 KiB block. */
export const MIN_CREATE_PIECE_LENGTH_BYTES = 16 * 1024;
/** Largest piece length `create` chooses by itself. */
export const MAX_AUTO_PIECE_LENGTH_BYTES = 16 * 1024 * 1024;
/** Largest piece length a user may ask for (mktorrent's `-l 28`; the parser's limit too). */
export const MAX_CREATE_PIECE_LENGTH_BYTES = 256 * 1024 * 1024;
/** The automatic choice keeps the piece count at or below this. */
export const TARGET_MAX_PIECES = 2000;

/** The automatic piece length for content of `totalLengthBytes` (see the module comment). */
export function autoPieceLength(totalLengthBytes: number): number {
  let pieceLength = MIN_CREATE_PIECE_LENGTH_BYTES;
  while (pieceLength < MAX_AUTO_PIECE_LENGTH_BYTES && totalLengthBytes > pieceLength * TARGET_MAX_PIECES) {
    pieceLength *= 2;
  }
  return pieceLength;
}

/**
 * Why `pieceLengthBytes` can't be used for a new torrent, or null when it can: it must be an
 * integer power of two between 16 KiB and 256 MiB (BEP 52 needs the power of two and 16 KiB).
 */
export function pieceLengthProblem(pieceLengthBytes: number): string | null {
  const n = pieceLengthBytes;
  if (!Number.isSafeInteger(n) || n <= 0) return `piece length ${n} is not a positive integer`;
  if (n > MAX_CREATE_PIECE_LENGTH_BYTES)
    return `piece length ${n} is above ${MAX_CREATE_PIECE_LENGTH_BYTES} (256 MiB)`;
  if ((n & (n - 1)) !== 0) return `piece length ${n} is not a power of two`;
  if (n < MIN_CREATE_PIECE_LENGTH_BYTES)
    return `piece length ${n} is below ${MIN_CREATE_PIECE_LENGTH_BYTES} (16 KiB)`;
  return null;
}

/** True when `pieceLengthBytes` is acceptable (see `pieceLengthProblem`). */
export function isValidPieceLength(pieceLengthBytes: number): boolean {
  return pieceLengthProblem(pieceLengthBytes) === null;
}
