/**
 * Compact peer and address formats (BEP 23 IPv4 `4+2` bytes, BEP 7 IPv6 `16+2` bytes) used by
 * the extended handshake (`yourip`, `ipv4`, `ipv6`) and ut_pex. IPv6 text is RFC 5952
 * canonical (lower case, longest zero run compressed) so equal addresses compare equal.
 */

/** A peer's transport address. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** Text form of a 4- or 16-byte address; null for any other length. */
export function formatIp(bytes: Uint8Array): string | null {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) return null;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Bytes of a textual IPv4 or IPv6 address (no zone id); null if it is not one. */
export function parseIp(text: string): Uint8Array | null {
  if (text.includes('.') && !text.includes(':')) return parseIpv4(text);
  if (!text.includes(':')) return null;
  let head = text;
  let tailV4: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  if (left === null || right === null) return null;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tailV4) out.set(tailV4, 12);
  return out;
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    out[i] = Number(p);
  }
  return out;
}

/**
 * Peers from a compact string of `ipBytes + 2`-byte entries, at most `maxCount` (extra entries
 * and a trailing partial entry are ignored). Port 0 entries are dropped.
 */
export function decodeCompactPeers(bytes: Uint8Array, ipBytes: 4 | 16, maxCount: number): PeerAddress[] {
  const stride = ipBytes + 2;
  const count = Math.min(Math.floor(bytes.length / stride), maxCount);
  const out: PeerAddress[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * stride;
    const port = (bytes[at + ipBytes]! << 8) | bytes[at + ipBytes + 1]!;
    if (port === 0) continue;
    out.push({ host: formatIp(bytes.subarray(at, at + ipBytes))!, port });
  }
  return out;
}

/** Compact form of peers of one family (`ipBytes` 4 or 16); peers of the other family are skipped. */
export function encodeCompactPeers(peers: readonly PeerAddress[], ipBytes: 4 | 16): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const p of peers) {
    const ip = parseIp(p.host);
    if (ip === null || ip.length !== ipBytes) continue;
    const entry = new Uint8Array(ipBytes + 2);
    entry.set(ip);
    entry[ipBytes] = p.port >>> 8;
    entry[ipBytes + 1] = p.port & 0xff;
    parts.push(entry);
  }
  const out = new Uint8Array(parts.length * (ipBytes + 2));
  for (let i = 0; i < parts.length; i++) out.set(parts[i]!, i * (ipBytes + 2));
  return out;
}
