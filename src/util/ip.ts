/**
 * IP addresses and the compact peer formats shared by trackers (BEP 23, BEP 7), PEX (BEP 11)
 * and the extension handshake (BEP 10 `yourip`): one implementation for every layer.
 * IPv6 text is RFC 5952 canonical, so equal addresses compare equal as strings.
 */

/** A peer's transport address. `host` is an IP literal (IPv6 without brackets) or a DNS name. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export type AddressFamily = 4 | 6;

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

export function ipFamily(host: string): AddressFamily | null {
  if (parseIpv4(host)) return 4;
  if (parseIpv6(host)) return 6;
  return null;
}

/** Bytes of an IPv4 or IPv6 literal (no zone id); null if it is neither. */
export function parseIp(text: string): Uint8Array | null {
  return parseIpv4(text) ?? parseIpv6(text);
}

/** Text of a 4- or 16-byte address; null for any other length. */
export function formatIp(bytes: Uint8Array): string | null {
  if (bytes.length === 4) return formatIpv4(bytes);
  if (bytes.length === 16) return formatIpv6(bytes);
  return null;
}

/** Bytes per compact entry: the address plus a 2-byte big-endian port. */
export function compactEntryBytes(family: AddressFamily): number {
  return family === 4 ? 6 : 18;
}

/**
 * Peers from a compact string of one family, at most `maxPeers` (the rest is never looked
 * at); a trailing partial entry is ignored (callers that must reject it check the length).
 * Port-0 entries are dropped.
 */
export function decodeCompactPeers(
  bytes: Uint8Array,
  family: AddressFamily,
  maxPeers: number,
): PeerAddress[] {
  const size = compactEntryBytes(family);
  const count = Math.min(Math.floor(bytes.length / size), maxPeers);
  const out: PeerAddress[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * size;
    const port = (bytes[at + size - 2]! << 8) | bytes[at + size - 1]!;
    if (port === 0) continue;
    out.push({ host: family === 4 ? formatIpv4(bytes, at) : formatIpv6(bytes, at), port });
  }
  return out;
}

/** Compact form of the peers of one family; other families and invalid ports are skipped. */
export function encodeCompactPeers(peers: readonly PeerAddress[], family: AddressFamily): Uint8Array {
  const size = compactEntryBytes(family);
  const out = new Uint8Array(peers.length * size);
  let n = 0;
  for (const p of peers) {
    if (!Number.isInteger(p.port) || p.port <= 0 || p.port > 0xffff) continue;
    const ip = family === 4 ? parseIpv4(p.host) : parseIpv6(p.host);
    if (!ip) continue;
    out.set(ip, n * size);
    out[n * size + size - 2] = p.port >> 8;
    out[n * size + size - 1] = p.port & 0xff;
    n++;
  }
  return out.subarray(0, n * size);
}

/** A DNS name: dot-separated labels of letters, digits, `-` and `_`, at most 253 characters. */
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/**
 * A port in decimal digits only, 1..65535 (or 0..65535 with `allowZero`): no sign, spaces,
 * exponent, hex or leading zeros (`Number()` would take `1e3`, `0x50` and `" 80"`). Null otherwise.
 */
export function parsePortText(text: string, allowZero = false): number | null {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 && (allowZero || port > 0) ? port : null;
}

/**
 * Why `text` is not a peer address (`host:port`, `[v6]:port`), or null if it is one. The host is
 * an IPv4 literal, a bracketed IPv6 literal or a DNS name; the port is 1..65535 in decimal.
 */
export function hostPortProblem(text: string): string | null {
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
  let host: string;
  let portText: string;
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
    if (!parseIpv6(host)) return `[${host}] is not an IPv6 address`;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return 'expected host:port (e.g. 192.0.2.7:6881 or [2001:db8::7]:6881)';
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':'))
      return parseIpv6(host)
        ? `an IPv6 address needs brackets: [${host}]:${portText}`
        : 'expected host:port; an IPv6 address goes in brackets ([2001:db8::7]:6881)';
    if (host === '') return 'the host is missing';
    if (/^[0-9.]+$/.test(host) ? !parseIpv4(host) : !HOSTNAME.test(host))
      return `${JSON.stringify(host)} is not an IP address or a host name`;
  }
  if (parsePortText(portText) === null)
    return `port ${JSON.stringify(portText)} is not a number from 1 to 65535`;
  return null;
}

/** `host:port` or `[v6]:port` → address; null when malformed or the port is out of range. */
export function parseHostPort(text: string): PeerAddress | null {
  if (hostPortProblem(text) !== null) return null;
  const colon = text.lastIndexOf(':');
  const host = text.startsWith('[') ? text.slice(1, colon - 1) : text.slice(0, colon);
  return { host, port: Number(text.slice(colon + 1)) };
}
