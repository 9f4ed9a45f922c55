/**
 * BEP 9 `ut_metadata`: the info dictionary fetched from peers in 16 KiB pieces.
 * `{msg_type: 0 request | 1 data | 2 reject, piece, total_size (data only)}`; a data message
 * carries the raw piece after the dictionary.
 */
import { type BDict, decodePrefix, encode, isDict } from '../bencode/index.js';
import { concatBytes } from '../util/bytes.js';
import { WireError } from './errors.js';
import { EXTENSION_DECODE_LIMITS, MAX_METADATA_BYTES, METADATA_PIECE_BYTES } from './limits.js';

export type MetadataMessage =
  | { readonly type: 'request'; readonly piece: number }
  | { readonly type: 'data'; readonly piece: number; readonly totalSize: number; readonly data: Uint8Array }
  | { readonly type: 'reject'; readonly piece: number };

/** Number of 16 KiB metadata pieces for `totalSize` bytes. */
export function metadataPieceCount(totalSize: number): number {
  return Math.ceil(totalSize / METADATA_PIECE_BYTES);
}

/** Encode a ut_metadata payload (without the extended id byte). */
export function encodeMetadataMessage(msg: MetadataMessage): Uint8Array {
  switch (msg.type) {
    case 'request':
      return encode({ msg_type: 0, piece: msg.piece });
    case 'reject':
      return encode({ msg_type: 2, piece: msg.piece });
    case 'data':
      return concatBytes([encode({ msg_type: 1, piece: msg.piece, total_size: msg.totalSize }), msg.data]);
  }
}

function bad(message: string, cause?: unknown): WireError {
  return new WireError('WIRE_BAD_METADATA', message, cause === undefined ? undefined : { cause });
}

/**
 * Decode a ut_metadata payload. Checked: piece index within the metadata (BEP 9), total size
 * within {@link MAX_METADATA_BYTES}, data length exactly 16 KiB except for the last piece.
 * Any violation is `WIRE_BAD_METADATA`. `data` is a view into `payload`.
 */
export function decodeMetadataMessage(payload: Uint8Array): MetadataMessage {
  let doc: ReturnType<typeof decodePrefix>;
  try {
    doc = decodePrefix(payload, EXTENSION_DECODE_LIMITS);
  } catch (err) {
    throw bad('ut_metadata message is not valid bencode', err);
  }
  if (!isDict(doc.value)) throw bad('ut_metadata message is not a dictionary');
  const d: BDict = doc.value;
  const type = d.get('msg_type');
  const piece = d.get('piece');
  if (typeof piece !== 'number' || !Number.isInteger(piece) || piece < 0)
    throw bad('ut_metadata piece is missing');
  if (piece >= metadataPieceCount(MAX_METADATA_BYTES))
    throw bad(`ut_metadata piece ${piece} is out of range`);
  const rest = payload.length - doc.end;
  if (type === 0 || type === 2) {
    if (rest !== 0) throw bad('ut_metadata request/reject carries trailing bytes');
    return { type: type === 0 ? 'request' : 'reject', piece };
  }
  if (type !== 1) throw bad(`unknown ut_metadata msg_type ${String(type)}`);
  const totalSize = d.get('total_size');
  if (
    typeof totalSize !== 'number' ||
    !Number.isInteger(totalSize) ||
    totalSize < 1 ||
    totalSize > MAX_METADATA_BYTES
  ) {
    throw bad(`ut_metadata total_size ${String(totalSize)} is out of range`);
  }
  const count = metadataPieceCount(totalSize);
  if (piece >= count) throw bad(`ut_metadata piece ${piece} of ${count}`);
  const expected = piece === count - 1 ? totalSize - piece * METADATA_PIECE_BYTES : METADATA_PIECE_BYTES;
  if (rest !== expected) throw bad(`ut_metadata piece ${piece} carries ${rest} bytes, expected ${expected}`);
  return { type: 'data', piece, totalSize, data: payload.subarray(doc.end) };
}
