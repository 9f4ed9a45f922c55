import { type AddressFamily, encodeCompactPeers, formatIpv4, formatIpv6 } from '../protocol/compact.js';

/**
 * Addresses as the registry keeps them: ids and compact `ip:port` forms as binary strings (one
 * char per byte), which are cheap Map keys and compare with `===`.
 */

/** A 20-byte id as a binary string (the Map key); ~2× faster than a per-byte loop. */
export function idKey(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** Normalize a socket address: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes IPv4. */
export function normalizeRemote(host: string): { host: string; family: AddressFamily } {
  if (host.startsWith('::ffff:') && host.indexOf('.') > 0) return { host: host.slice(7), family: 4 };
  return { host, family: host.includes(':') ? 6 : 4 };
}

const ipCaches = { 4: new Map<string, string | null>(), 6: new Map<string, string | null>() };
const IP_CACHE_SIZE = 4096;

/**
 * The compact form of `host:port` as a binary string, via the protocol codec; null if not an
 * IP. The IP part is cached per host text (bounded), since parsing it is most of the cost and
 * the same hosts announce again and again.
 */
export function compactAddress(host: string, port: number, family: AddressFamily): string | null {
  const ipCache = ipCaches[family];
  let ip = ipCache.get(host);
  if (ip === undefined) {
    const bytes = encodeCompactPeers([{ host, port: 1 }], family);
    ip = bytes.length === 0 ? null : idKey(bytes.subarray(0, bytes.length - 2));
    if (ipCache.size >= IP_CACHE_SIZE) ipCache.clear();
    ipCache.set(host, ip);
  }
  return ip === null ? null : ip + String.fromCharCode(port >> 8, port & 0xff);
}

/** The IP literal and port of a stored peer (for the dictionary model and logs). */
export function peerEndpoint(peer: { readonly compact: string; readonly id: string }): {
  host: string;
  port: number;
  peerId: Uint8Array;
} {
  const c = peer.compact;
  const bytes = new Uint8Array(c.length);
  for (let i = 0; i < c.length; i++) bytes[i] = c.charCodeAt(i);
  const n = bytes.length;
  const host = n === 6 ? formatIpv4(bytes) : formatIpv6(bytes);
  const peerId = new Uint8Array(20);
  for (let i = 0; i < 20; i++) peerId[i] = peer.id.charCodeAt(i);
  return { host, port: (bytes[n - 2]! << 8) | bytes[n - 1]!, peerId };
}

/** Same IP in two compact addresses of one family (everything but the 2-byte port). */
export function sameIp(a: string, b: string): boolean {
  return a.length === b.length && a.slice(0, -2) === b.slice(0, -2);
}
