/**
 * Peer wire messages (BEP 3, BEP 5 `port`, BEP 6 fast extension, BEP 10 `extended`, BEP 52
 * hash messages) as one discriminated union, with a codec table keyed by message id (STYLE
 * item 5). Frames are `<u32 length><u8 id><payload>`; a zero length is a keep-alive.
 *
 * Decoded byte fields (`data`, `bits`, `payload`, `hashes`, `piecesRoot`) may be views into the
 * bytes handed to the decoder; the decoder takes ownership of what it is given, so they stay valid.
 */
import { WireError } from './errors.js';
import { MAX_HASHES_MESSAGE_BYTES, MAX_MESSAGE_BYTES } from './limits.js';

/** A piece index as it travels on the wire (u32). */
export type PieceIndex = number & { readonly __brand: 'PieceIndex' };

/** Brand a number as a piece index (no range check: the protocol checks against the piece count). */
export function pieceIndex(n: number): PieceIndex {
  return n as PieceIndex;
}

/** Message ids. `KeepAlive` has no id on the wire (a zero-length frame); -1 here. */
export const MsgId = {
  KeepAlive: -1,
  Choke: 0,
  Unchoke: 1,
  Interested: 2,
  NotInterested: 3,
  Have: 4,
  Bitfield: 5,
  Request: 6,
  Piece: 7,
  Cancel: 8,
  Port: 9,
  Suggest: 13,
  HaveAll: 14,
  HaveNone: 15,
  Reject: 16,
  AllowedFast: 17,
  Extended: 20,
  HashRequest: 21,
  Hashes: 22,
  HashReject: 23,
} as const;
export type MsgId = (typeof MsgId)[keyof typeof MsgId];

/** `piece`/`offset`/`length` of a block; request, cancel and reject messages are themselves BlockRefs. */
export interface BlockRef {
  readonly piece: PieceIndex;
  readonly offset: number;
  readonly length: number;
}

/** BEP 52 hash request / hash reject payload, and the header of a hashes message. */
export interface HashRequestFields {
  /** The file's 32-byte merkle root. */
  readonly piecesRoot: Uint8Array;
  readonly baseLayer: number;
  readonly index: number;
  readonly length: number;
  readonly proofLayers: number;
}

export type KeepAliveMessage = { readonly id: typeof MsgId.KeepAlive };
export type ChokeMessage = { readonly id: typeof MsgId.Choke };
export type UnchokeMessage = { readonly id: typeof MsgId.Unchoke };
export type InterestedMessage = { readonly id: typeof MsgId.Interested };
export type NotInterestedMessage = { readonly id: typeof MsgId.NotInterested };
export type HaveMessage = { readonly id: typeof MsgId.Have; readonly piece: PieceIndex };
/** Raw MSB-first bitfield bytes; validated against the piece count by the decoder when known. */
export type BitfieldMessage = { readonly id: typeof MsgId.Bitfield; readonly bits: Uint8Array };
export type RequestMessage = { readonly id: typeof MsgId.Request } & BlockRef;
export type PieceMessage = {
  readonly id: typeof MsgId.Piece;
  readonly piece: PieceIndex;
  readonly offset: number;
  readonly data: Uint8Array;
};
export type CancelMessage = { readonly id: typeof MsgId.Cancel } & BlockRef;
export type PortMessage = { readonly id: typeof MsgId.Port; readonly port: number };
export type SuggestMessage = { readonly id: typeof MsgId.Suggest; readonly piece: PieceIndex };
export type HaveAllMessage = { readonly id: typeof MsgId.HaveAll };
export type HaveNoneMessage = { readonly id: typeof MsgId.HaveNone };
export type RejectMessage = { readonly id: typeof MsgId.Reject } & BlockRef;
export type AllowedFastMessage = { readonly id: typeof MsgId.AllowedFast; readonly piece: PieceIndex };
/** BEP 10: `extId` 0 is the extended handshake; others are ids the receiver assigned. */
export type ExtendedMessage = {
  readonly id: typeof MsgId.Extended;
  readonly extId: number;
  readonly payload: Uint8Array;
};
export type HashRequestMessage = { readonly id: typeof MsgId.HashRequest } & HashRequestFields;
/** BEP 52: `hashes` is a whole number of 32-byte SHA-256 digests. */
export type HashesMessage = {
  readonly id: typeof MsgId.Hashes;
  readonly hashes: Uint8Array;
} & HashRequestFields;
export type HashRejectMessage = { readonly id: typeof MsgId.HashReject } & HashRequestFields;

export type Message =
  | KeepAliveMessage
  | ChokeMessage
  | UnchokeMessage
  | InterestedMessage
  | NotInterestedMessage
  | HaveMessage
  | BitfieldMessage
  | RequestMessage
  | PieceMessage
  | CancelMessage
  | PortMessage
  | SuggestMessage
  | HaveAllMessage
  | HaveNoneMessage
  | RejectMessage
  | AllowedFastMessage
  | ExtendedMessage
  | HashRequestMessage
  | HashesMessage
  | HashRejectMessage;

/** Ids that appear on the wire (everything but keep-alive). */
export type WireMsgId = Exclude<MsgId, typeof MsgId.KeepAlive>;
type MessageOf<K extends MsgId> = Extract<Message, { id: K }>;

/** Per-message codec: body sizes exclude the 4-byte length prefix and the id byte. */
interface Codec<M extends Message> {
  /** Smallest and largest payload (after the id byte) a peer may send. */
  readonly minPayload: number;
  readonly maxPayload: number;
  payloadSize(msg: M): number;
  /** Write the payload at `at`; `out` has room. */
  write(msg: M, out: Uint8Array, at: number): void;
  /** Decode `buf[start, end)`, whose length is within [minPayload, maxPayload]. */
  decode(buf: Uint8Array, start: number, end: number): M;
}

/** Read a big-endian u32. */
export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Write a big-endian u32. */
export function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function empty<K extends WireMsgId>(id: K): Codec<MessageOf<K>> {
  const msg = Object.freeze({ id }) as MessageOf<K>;
  return { minPayload: 0, maxPayload: 0, payloadSize: () => 0, write: () => {}, decode: () => msg };
}

function pieceOnly<K extends typeof MsgId.Have | typeof MsgId.Suggest | typeof MsgId.AllowedFast>(
  id: K,
): Codec<MessageOf<K>> {
  return {
    minPayload: 4,
    maxPayload: 4,
    payloadSize: () => 4,
    write: (m: { readonly piece: number }, out, at) => writeU32(out, at, m.piece),
    decode: (b, s) => ({ id, piece: readU32(b, s) as PieceIndex }) as MessageOf<K>,
  };
}

function blockRef<K extends typeof MsgId.Request | typeof MsgId.Cancel | typeof MsgId.Reject>(
  id: K,
): Codec<MessageOf<K>> {
  return {
    minPayload: 12,
    maxPayload: 12,
    payloadSize: () => 12,
    write: (m: BlockRef, out, at) => {
      writeU32(out, at, m.piece);
      writeU32(out, at + 4, m.offset);
      writeU32(out, at + 8, m.length);
    },
    decode: (b, s) =>
      ({
        id,
        piece: readU32(b, s) as PieceIndex,
        offset: readU32(b, s + 4),
        length: readU32(b, s + 8),
      }) as MessageOf<K>,
  };
}

const HASH_HEADER = 32 + 16;

function writeHashFields(m: HashRequestFields, out: Uint8Array, at: number): void {
  out.set(m.piecesRoot.subarray(0, 32), at);
  writeU32(out, at + 32, m.baseLayer);
  writeU32(out, at + 36, m.index);
  writeU32(out, at + 40, m.length);
  writeU32(out, at + 44, m.proofLayers);
}

function readHashFields(b: Uint8Array, s: number): HashRequestFields {
  return {
    piecesRoot: b.subarray(s, s + 32),
    baseLayer: readU32(b, s + 32),
    index: readU32(b, s + 36),
    length: readU32(b, s + 40),
    proofLayers: readU32(b, s + 44),
  };
}

function hashFields<K extends typeof MsgId.HashRequest | typeof MsgId.HashReject>(
  id: K,
): Codec<MessageOf<K>> {
  return {
    minPayload: HASH_HEADER,
    maxPayload: HASH_HEADER,
    payloadSize: () => HASH_HEADER,
    write: writeHashFields,
    decode: (b, s) => ({ id, ...readHashFields(b, s) }) as MessageOf<K>,
  };
}

const MAX_BLOCK_PAYLOAD = MAX_MESSAGE_BYTES - 5;

/**
 * The codec table. The bitfield and extended maxima here are absolute; the decoder applies
 * tighter per-connection bounds (bitfield sized from the piece count).
 */
export const CODECS: { readonly [K in WireMsgId]: Codec<MessageOf<K>> } = {
  [MsgId.Choke]: empty(MsgId.Choke),
  [MsgId.Unchoke]: empty(MsgId.Unchoke),
  [MsgId.Interested]: empty(MsgId.Interested),
  [MsgId.NotInterested]: empty(MsgId.NotInterested),
  [MsgId.Have]: pieceOnly(MsgId.Have),
  [MsgId.Bitfield]: {
    minPayload: 0,
    maxPayload: 0x7fffffff,
    payloadSize: (m) => m.bits.length,
    write: (m, out, at) => out.set(m.bits, at),
    decode: (b, s, e) => ({ id: MsgId.Bitfield, bits: b.subarray(s, e) }),
  },
  [MsgId.Request]: blockRef(MsgId.Request),
  [MsgId.Piece]: {
    minPayload: 8,
    maxPayload: MAX_BLOCK_PAYLOAD,
    payloadSize: (m) => 8 + m.data.length,
    write: (m, out, at) => {
      writeU32(out, at, m.piece);
      writeU32(out, at + 4, m.offset);
      out.set(m.data, at + 8);
    },
    decode: (b, s, e) => ({
      id: MsgId.Piece,
      piece: readU32(b, s) as PieceIndex,
      offset: readU32(b, s + 4),
      data: b.subarray(s + 8, e),
    }),
  },
  [MsgId.Cancel]: blockRef(MsgId.Cancel),
  [MsgId.Port]: {
    minPayload: 2,
    maxPayload: 2,
    payloadSize: () => 2,
    write: (m, out, at) => {
      out[at] = (m.port >>> 8) & 0xff;
      out[at + 1] = m.port & 0xff;
    },
    decode: (b, s) => ({ id: MsgId.Port, port: (b[s]! << 8) | b[s + 1]! }),
  },
  [MsgId.Suggest]: pieceOnly(MsgId.Suggest),
  [MsgId.HaveAll]: empty(MsgId.HaveAll),
  [MsgId.HaveNone]: empty(MsgId.HaveNone),
  [MsgId.Reject]: blockRef(MsgId.Reject),
  [MsgId.AllowedFast]: pieceOnly(MsgId.AllowedFast),
  [MsgId.Extended]: {
    minPayload: 1,
    maxPayload: 0x7fffffff,
    payloadSize: (m) => 1 + m.payload.length,
    write: (m, out, at) => {
      out[at] = m.extId;
      out.set(m.payload, at + 1);
    },
    decode: (b, s, e) => ({ id: MsgId.Extended, extId: b[s]!, payload: b.subarray(s + 1, e) }),
  },
  [MsgId.HashRequest]: hashFields(MsgId.HashRequest),
  [MsgId.Hashes]: {
    minPayload: HASH_HEADER,
    maxPayload: MAX_HASHES_MESSAGE_BYTES - 1,
    payloadSize: (m) => HASH_HEADER + m.hashes.length,
    write: (m, out, at) => {
      writeHashFields(m, out, at);
      out.set(m.hashes, at + HASH_HEADER);
    },
    decode: (b, s, e) => {
      if ((e - s - HASH_HEADER) % 32 !== 0) {
        throw new WireError(
          'WIRE_BAD_MESSAGE_LENGTH',
          'hashes payload is not a whole number of 32-byte hashes',
        );
      }
      return { id: MsgId.Hashes, ...readHashFields(b, s), hashes: b.subarray(s + HASH_HEADER, e) };
    },
  },
  [MsgId.HashReject]: hashFields(MsgId.HashReject),
};

/** The codec for a wire id, or undefined for an id we do not know. */
export function codecFor(id: number): Codec<Message> | undefined {
  return (CODECS as Record<number, Codec<Message> | undefined>)[id];
}

/** Bytes `msg` takes on the wire, length prefix included. */
export function frameSize(msg: Message): number {
  if (msg.id === MsgId.KeepAlive) return 4;
  return 5 + (CODECS[msg.id] as Codec<Message>).payloadSize(msg);
}

/** Write `msg` as a frame into `out` at `at`; returns the offset after it. `out` must have room. */
export function writeMessage(msg: Message, out: Uint8Array, at = 0): number {
  if (msg.id === MsgId.KeepAlive) {
    writeU32(out, at, 0);
    return at + 4;
  }
  const codec = CODECS[msg.id] as Codec<Message>;
  const size = codec.payloadSize(msg);
  writeU32(out, at, size + 1);
  out[at + 4] = msg.id;
  codec.write(msg, out, at + 5);
  return at + 5 + size;
}

/** Encode one message as a fresh frame (copies piece data; see {@link encodePieceHeader} for the hot path). */
export function encodeMessage(msg: Message): Uint8Array {
  const out = new Uint8Array(frameSize(msg));
  writeMessage(msg, out, 0);
  return out;
}

/** Bytes of a piece message header: prefix (4) + id (1) + index (4) + begin (4). */
export const PIECE_HEADER_BYTES = 13;

/**
 * The 13-byte header of a piece message carrying `dataLength` bytes, written into `out` (or a
 * fresh buffer). Send `[header, data]` with writev so block data is never copied by us.
 */
export function encodePieceHeader(
  piece: number,
  offset: number,
  dataLength: number,
  out: Uint8Array = new Uint8Array(PIECE_HEADER_BYTES),
  at = 0,
): Uint8Array {
  writeU32(out, at, 9 + dataLength);
  out[at + 4] = MsgId.Piece;
  writeU32(out, at + 5, piece);
  writeU32(out, at + 9, offset);
  return out;
}

/** Encode as chunks for a writev: a piece message is `[header, data]` (no copy), others one frame. */
export function encodeMessageChunks(msg: Message): Uint8Array[] {
  if (msg.id === MsgId.Piece) return [encodePieceHeader(msg.piece, msg.offset, msg.data.length), msg.data];
  return [encodeMessage(msg)];
}

/** A short human name for logs and reasons. */
export function messageName(id: number): string {
  for (const [name, value] of Object.entries(MsgId)) if (value === id) return name;
  return `unknown(${id})`;
}
