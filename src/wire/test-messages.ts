/**
 * One sample of every message type (tests, fuzz, benchmarks). Not exported from the package:
 * it lives in src/wire so unit tests, fuzz targets and benchmarks share one list.
 */
import { type Message, MsgId, pieceIndex } from './messages.js';

const root = Uint8Array.from({ length: 32 }, (_, i) => i);

/** Every message kind with non-trivial field values (the piece data contains a NUL byte). */
export function sampleMessages(): Message[] {
  const p = pieceIndex(0x01020304);
  return [
    { id: MsgId.KeepAlive },
    { id: MsgId.Choke },
    { id: MsgId.Unchoke },
    { id: MsgId.Interested },
    { id: MsgId.NotInterested },
    { id: MsgId.Have, piece: p },
    { id: MsgId.Bitfield, bits: Uint8Array.of(0xff, 0x80) },
    { id: MsgId.Request, piece: p, offset: 16384, length: 16384 },
    { id: MsgId.Piece, piece: p, offset: 32768, data: Uint8Array.of(1, 0, 2, 3) },
    { id: MsgId.Cancel, piece: p, offset: 0, length: 100 },
    { id: MsgId.Port, port: 6881 },
    { id: MsgId.Suggest, piece: pieceIndex(7) },
    { id: MsgId.HaveAll },
    { id: MsgId.HaveNone },
    { id: MsgId.Reject, piece: pieceIndex(9), offset: 0, length: 16384 },
    { id: MsgId.AllowedFast, piece: pieceIndex(11) },
    { id: MsgId.Extended, extId: 3, payload: Uint8Array.of(0x64, 0x65) },
    { id: MsgId.HashRequest, piecesRoot: root, baseLayer: 0, index: 512, length: 512, proofLayers: 3 },
    {
      id: MsgId.Hashes,
      piecesRoot: root,
      baseLayer: 0,
      index: 0,
      length: 2,
      proofLayers: 1,
      hashes: new Uint8Array(96).fill(7),
    },
    { id: MsgId.HashReject, piecesRoot: root, baseLayer: 1, index: 4, length: 4, proofLayers: 0 },
  ];
}
