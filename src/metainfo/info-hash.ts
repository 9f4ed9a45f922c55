import { createHash } from 'node:crypto';
import { toHex } from '../util/bytes.js';

/**
 * Info-hash helpers. v1 is SHA-1 and v2 SHA-256 over the exact bencoded `info` bytes (never a
 * re-encoding: `parseMetainfo` keeps the bytes as they arrived).
 */

/** Length of a v1 info-hash (SHA-1). */
export const INFO_HASH_V1_BYTES = 20;
/** Length of a v2 info-hash (SHA-256). */
export const INFO_HASH_V2_BYTES = 32;

/** SHA-1 of the exact `info` bytes (BEP 3). */
export function infoHashV1(infoBytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(infoBytes).digest());
}

/** SHA-256 of the exact `info` bytes (BEP 52). */
export function infoHashV2(infoBytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(infoBytes).digest());
}

/**
 * BEP 52: where a 20-byte info-hash is needed (peer handshake, tracker announce, DHT) a v2
 * torrent uses its SHA-256 info-hash truncated to 20 bytes.
 */
export function truncatedV2(v2: Uint8Array): Uint8Array {
  if (v2.length !== INFO_HASH_V2_BYTES) throw new Error(`v2 info-hash must be 32 bytes, got ${v2.length}`);
  return v2.slice(0, INFO_HASH_V1_BYTES);
}

/**
 * The 20-byte hash a torrent is known by on the wire and at trackers: the v1 hash when it has
 * one (v1 and hybrid), else the truncated v2 hash.
 */
export function wireInfoHash(m: {
  readonly infoHash: Uint8Array | null;
  readonly infoHashV2: Uint8Array | null;
}): Uint8Array {
  if (m.infoHash) return m.infoHash;
  if (m.infoHashV2) return truncatedV2(m.infoHashV2);
  throw new Error('torrent has neither a v1 nor a v2 info-hash');
}

/** Lowercase hex of a v1 hash, or null. */
export function infoHashHex(m: { readonly infoHash: Uint8Array | null }): string | null {
  return m.infoHash ? toHex(m.infoHash) : null;
}

/** Lowercase hex of a v2 hash, or null. */
export function infoHashV2Hex(m: { readonly infoHashV2: Uint8Array | null }): string | null {
  return m.infoHashV2 ? toHex(m.infoHashV2) : null;
}
