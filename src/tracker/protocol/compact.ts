import type { BValue } from '../../bencode/index.js';
import { isBytes, isDict, isList } from '../../bencode/index.js';
import { decodeUtf8Strict } from '../../util/bytes.js';
import { TrackerError } from '../errors.js';

/**
 * Peer addresses on the tracker wire: BEP 23 compact (6 bytes: IPv4 + port), BEP 7 compact
 * IPv6 (18 bytes) and the original BEP 3 dictionary model (`peer id`, `ip`, `port`).
 * Decoders drop unusable entries (port 0) and stop at `maxPeers`: a huge list is not an
 * error, but we never hold more than we asked for.
 */

/** A peer as trackers describe it. `host` is an IP literal (IPv6 without brackets) or DNS name. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
  /** Only in the dictionary model, and only when the tracker sent one (20 bytes). */
  readonly peerId?: Uint8Array;
}

export type AddressFamily = 4 | 6;

export const COMPACT_PEER_V4_BYTES = 6;
export const COMPACT_PEER_V6_BYTES = 18;
/** Default cap on peers decoded from one response (libtorrent asks for 200; 2 MiB / 6 ≈ 350k). */
export const DEFAULT_MAX_PEERS = 1000;
const MAX_HOSTNAME_LENGTH = 253;
const HOSTNAME_RE =
  /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** Parse a dotted-quad IPv4 literal; null if it is not exactly one. */
export function parseIpv4(host: string): Uint8Array | null {
  const parts = host.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** Parse an IPv6 literal (optionally in brackets, embedded IPv4 allowed, no zone id). */
export function parseIpv6(input: string): Uint8Array | null {
  let host = input;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.length < 2 || host.length > 45 || !/^[0-9a-fA-F:.]+$/.test(host)) return null;
  const groups: number[] = [];
  const halves = host.split('::');
  if (halves.length > 2) return null;
  const parseHalf = (half: string, isLast: boolean): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (isLast && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(Number.parseInt(p, 16));
      }
    }
    return out;
  };
  const head = parseHalf(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parseHalf(halves[1]!, true) : [];
  if (!head || !tail) return null;
  if (halves.length === 1) {
    if (head.length !== 8) return null;
    groups.push(...head);
  } else {
    const zeros = 8 - head.length - tail.length;
    if (zeros < 1) return null;
    groups.push(...head, ...new Array<number>(zeros).fill(0), ...tail);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = groups[i]! >> 8;
    out[i * 2 + 1] = groups[i]! & 0xff;
  }
  return out;
}

export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952 text form: lowercase, longest zero run (≥ 2 groups) as `::`, v4-mapped as dotted. */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((bytes[offset + i * 2]! << 8) | bytes[offset + i * 2 + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4(bytes, offset + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The family of an IP literal, or null for a DNS name / garbage. */
export function ipFamily(host: string): AddressFamily | null {
  if (parseIpv4(host)) return 4;
  if (parseIpv6(host)) return 6;
  return null;
}

/** Encode peers of one family; peers of the other family or with an invalid port are skipped. */
export function encodeCompactPeers(peers: readonly PeerAddress[], family: AddressFamily): Uint8Array {
  const size = family === 4 ? COMPACT_PEER_V4_BYTES : COMPACT_PEER_V6_BYTES;
  const ipBytes = size - 2;
  const out = new Uint8Array(peers.length * size);
  let n = 0;
  for (const p of peers) {
    if (!isValidPort(p.port)) continue;
    const ip = family === 4 ? parseIpv4(p.host) : parseIpv6(p.host);
    if (!ip) continue;
    out.set(ip, n * size);
    out[n * size + ipBytes] = p.port >> 8;
    out[n * size + ipBytes + 1] = p.port & 0xff;
    n++;
  }
  return out.subarray(0, n * size);
}

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
  const count = Math.min(bytes.length / size, maxPeers);
  const out: PeerAddress[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * size;
    const port = (bytes[at + size - 2]! << 8) | bytes[at + size - 1]!;
    if (port === 0) continue;
    const host = family === 4 ? formatIpv4(bytes, at) : formatIpv6(bytes, at);
    out.push({ host, port });
  }
  return out;
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
