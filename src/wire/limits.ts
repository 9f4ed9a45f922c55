/**
 * Named limits of the peer wire. Every length or count read from a peer is checked against one
 * of these before a buffer is allocated (STYLE item 9).
 */

/** BEP 3: the request unit; all current clients request 16 KiB and drop peers asking for more. */
export const BLOCK_LENGTH = 16 * 1024;

/** Largest `request`/`cancel`/`reject` length we serve (BEP 52 text: "close connections which request more"). */
export const MAX_REQUEST_LENGTH = BLOCK_LENGTH;

/**
 * Largest ordinary frame, length prefix included: a `piece` message is prefix (4) + id (1) +
 * index (4) + begin (4) + a 16 KiB block. The length field itself may be at most this − 4.
 */
export const MAX_MESSAGE_BYTES = BLOCK_LENGTH + 13;

/**
 * Bitfield bound while the piece count is unknown (magnet before metadata): 2^23 pieces, 1 MiB
 * of bitfield. With the piece count known the bound is exact: ceil(pieces / 8) + 1.
 */
export const MAX_UNKNOWN_BITFIELD_BYTES = (1 << 20) + 1;

/**
 * BEP 10 extended message body (the length field). ut_metadata data is 16 KiB + a small dict; extended handshakes are
 * small. 1 MiB leaves room for generous clients without letting a peer pin much memory.
 */
export const MAX_EXTENDED_MESSAGE_BYTES = 1024 * 1024;

/** BEP 52: length SHOULD NOT exceed 512; proof layers add at most one uncle per layer (≤ 64). */
export const MAX_HASHES_PER_MESSAGE = 512 + 64;

/** BEP 52 hashes message body (the length field): id + 32-byte root + 4 × u32 + hashes. */
export const MAX_HASHES_MESSAGE_BYTES = 1 + 32 + 16 + MAX_HASHES_PER_MESSAGE * 32;

/** BEP 9: metadata is fetched in 16 KiB pieces. */
export const METADATA_PIECE_BYTES = 16 * 1024;

/**
 * BEP 9 `metadata_size` we accept (8 MiB: an info dict for ~400k v1 pieces). A peer claiming
 * more is refused before anything is allocated for it.
 */
export const MAX_METADATA_BYTES = 8 * 1024 * 1024;

/** BEP 11: except for the initial message, at most 50 added (and 50 dropped) contacts per message. */
export const MAX_PEX_PEERS_PER_MESSAGE = 50;

/**
 * Contacts we read from one PEX list. The initial message may exceed 50 (BEP 11), so parsing
 * is looser; entries beyond this are ignored, not an error.
 */
export const MAX_PEX_PEERS_ACCEPTED = 200;

/** Bencode limits for extension payloads (handshake, ut_metadata, ut_pex): shallow, few items. */
export const EXTENSION_DECODE_LIMITS = {
  maxBytes: MAX_EXTENDED_MESSAGE_BYTES,
  maxDepth: 4,
  maxItems: 512,
  maxIntegerDigits: 20,
  allowUnsortedKeys: true,
} as const;

/** BEP 10 handshake: at most this many entries in the `m` dictionary (names beyond are ignored). */
export const MAX_EXTENSIONS = 64;

/** Handshake is exactly 68 bytes: 1 + 19 + 8 + 20 + 20 (BEP 3). */
export const HANDSHAKE_BYTES = 68;
