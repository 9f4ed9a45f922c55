import type { BValue } from '../../bencode/index.js';
import { isBytes, isDict, isList } from '../../bencode/index.js';
import { decodeUtf8Strict } from '../../util/bytes.js';
import {
  type AddressFamily,
  type PeerAddress as BasePeerAddress,
  decodeCompactPeers as decodeCompact,
  encodeCompactPeers,
  formatIpv4,
  formatIpv6,
  ipFamily,
  parseIpv4,
  parseIpv6,
} from '../../util/ip.js';
import { TrackerError } from '../errors.js';

export { encodeCompactPeers };

/**
 * Peer addresses on the tracker wire: BEP 23 compact (6 bytes: IPv4 + port), BEP 7 compact
 * IPv6 (18 bytes) and the original BEP 3 dictionary model (`peer id`, `ip`, `port`).
 * Decoders drop unusable entries (port 0) and stop at `maxPeers`: a huge list is not an
 * error, but we never hold more than we asked for.
 */

/** A peer as trackers describe it. `host` is an IP literal (IPv6 without brackets) or DNS name. */
export interface PeerAddress extends BasePeerAddress {
  /** Only in the dictionary model, and only when the tracker sent one (20 bytes). */
  readonly peerId?: Uint8Array;
}

export type { AddressFamily };
export { formatIpv4, formatIpv6, ipFamily, parseIpv4, parseIpv6 };

export const COMPACT_PEER_V4_BYTES = 6;
export const COMPACT_PEER_V6_BYTES = 18;
/** Default cap on peers decoded from one response (libtorrent asks for 200; 2 MiB / 6 ≈ 350k). */
export const DEFAULT_MAX_PEERS = 1000;
const MAX_HOSTNAME_LENGTH = 253;
const HOSTNAME_RE =
  /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** The family of an IP literal, or null for a DNS name / garbage. */

/**
 * Decode a compact peer string. Length not a multiple of the entry size → `TRACKER_BAD_PEERS`.
 * Port-0 entries are dropped; at most `maxPeers` are returned (the rest is never looked at).
 */
export function decodeCompactPeers(
  bytes: Uint8Array,
  family: AddressFamily,
  maxPeers = DEFAULT_MAX_PEERS,
): PeerAddress[] {
  const size = family === 4 ? COMPACT_PEER_V4_BYTES : COMPACT_PEER_V6_BYTES;
  if (bytes.length % size !== 0) {
    throw new TrackerError(
      'TRACKER_BAD_PEERS',
      `compact IPv${family} peers: ${bytes.length} bytes is not a multiple of ${size}`,
    );
  }
  return decodeCompact(bytes, family, maxPeers);
}

/**
 * Decode the BEP 3 dictionary model: a list of `{ peer id, ip, port }`. Entries that are not
 * dicts, have no usable `ip` (IP literal or DNS name) or a port outside 1..65535 are dropped.
 */
export function decodeDictPeers(list: BValue, maxPeers = DEFAULT_MAX_PEERS): PeerAddress[] {
  if (!isList(list)) throw new TrackerError('TRACKER_BAD_PEERS', 'peers is neither a string nor a list');
  const out: PeerAddress[] = [];
  for (const entry of list) {
    if (out.length >= maxPeers) break;
    if (!isDict(entry)) continue;
    const ip = entry.get('ip');
    const port = entry.get('port');
    if (!isBytes(ip) || ip.length > MAX_HOSTNAME_LENGTH + 2 || typeof port !== 'number') continue;
    if (!isValidPort(port)) continue;
    const host = normalizeHost(decodeUtf8Strict(ip));
    if (host === null) continue;
    const peerId = entry.get('peer id');
    if (isBytes(peerId) && peerId.length === 20) out.push({ host, port, peerId });
    else out.push({ host, port });
  }
  return out;
}

/** Encode peers in the dictionary model (`no_peer_id` drops the ids, as BEP 23 clients ask). */
export function encodeDictPeers(
  peers: readonly PeerAddress[],
  includePeerId: boolean,
): Map<string, BValue>[] {
  const out: Map<string, BValue>[] = [];
  for (const p of peers) {
    if (!isValidPort(p.port)) continue;
    const d = new Map<string, BValue>();
    d.set('ip', new TextEncoder().encode(p.host));
    if (includePeerId && p.peerId) d.set('peer id', p.peerId);
    d.set('port', p.port);
    out.push(d);
  }
  return out;
}

export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port <= 0xffff;
}

/** An IP literal (normalized) or a syntactically valid DNS name; null otherwise. */
export function normalizeHost(text: string | null): string | null {
  if (text === null || text.length === 0) return null;
  const v4 = parseIpv4(text);
  if (v4) return formatIpv4(v4);
  const v6 = parseIpv6(text);
  if (v6) return formatIpv6(v6);
  return HOSTNAME_RE.test(text) ? text.toLowerCase() : null;
}
