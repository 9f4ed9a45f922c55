import { fromBase32, fromHex, toHex } from '../util/bytes.js';
import { MetainfoError } from './errors.js';
import type { MagnetLink, Metainfo } from './types.js';

/**
 * Magnet links: BEP 9 (`xt=urn:btih:`, `dn`, `tr`, `x.pe`), BEP 19 `ws`, `xl`, BEP 53 `so`,
 * BEP 52 `xt=urn:btmh:1220…`, hybrid links with both `xt`. Parsing is strict about what it
 * uses (hashes, lengths, indices) and ignores parameters it does not know, as BEP 9 asks.
 *
 * Values are percent-decoded as libtorrent does (`+` is a space); `formatMagnet` percent-encodes
 * everything outside RFC 3986's unreserved set, so `parseMagnet(formatMagnet(l))` equals `l`.
 */

/** Longest magnet link accepted (a link is typed or pasted; anything longer is hostile). */
export const MAX_MAGNET_LENGTH = 64 * 1024;
/** Most `key=value` parameters in one link. */
export const MAX_MAGNET_PARAMS = 1024;
/** Most file indices a BEP 53 `so=` may select once ranges are expanded. */
export const MAX_SELECT_COUNT = 100_000;
/** Largest file index `so=` may name (the metainfo parser's file-count limit). */
export const MAX_SELECT_INDEX = 1_000_000;

const BTIH = 'urn:btih:';
const BTMH = 'urn:btmh:';
/** BEP 52: multihash prefix for SHA-256 (0x12) with a 32-byte (0x20) digest. */
const SHA256_MULTIHASH = '1220';

interface Builder {
  infoHash: Uint8Array | null;
  infoHashV2: Uint8Array | null;
  name?: string;
  trackers: string[];
  webSeeds: string[];
  peers: string[];
  exactLengthBytes?: number;
  selectOnly?: number[];
}

/** Parse a magnet URI; throws `MetainfoError` with a `MAGNET_*` code saying what is wrong. */
export function parseMagnet(uri: string): MagnetLink {
  if (uri.length > MAX_MAGNET_LENGTH) {
    throw new MetainfoError(
      'MAGNET_TOO_LONG',
      '',
      `magnet link of ${uri.length} chars exceeds ${MAX_MAGNET_LENGTH}`,
    );
  }
  const trimmed = uri.trim();
  if (!/^magnet:\?/i.test(trimmed)) {
    throw new MetainfoError('MAGNET_NOT_A_MAGNET', '', 'not a magnet link (expected "magnet:?…")');
  }
  const params = trimmed.slice('magnet:?'.length).split('&');
  if (params.length > MAX_MAGNET_PARAMS) {
    throw new MetainfoError('MAGNET_TOO_MANY_PARAMS', '', `more than ${MAX_MAGNET_PARAMS} parameters`);
  }
  const b: Builder = { infoHash: null, infoHashV2: null, trackers: [], webSeeds: [], peers: [] };
  for (const param of params) {
    if (param === '') continue;
    const eq = param.indexOf('=');
    const key = (eq < 0 ? param : param.slice(0, eq)).toLowerCase();
    const value = decodeValue(key, eq < 0 ? '' : param.slice(eq + 1));
    applyParam(b, baseKey(key), value);
  }
  if (!b.infoHash && !b.infoHashV2) {
    throw new MetainfoError('MAGNET_NO_XT', 'xt', 'no urn:btih: or urn:btmh: info-hash');
  }
  return freeze(b);
}

/** `xt.1`, `tr.2`… are numbered variants of `xt`, `tr` (magnet-uri convention). */
function baseKey(key: string): string {
  const m = /^(xt|tr|ws|x\.pe)\.\d+$/.exec(key);
  return m ? m[1]! : key;
}

function decodeValue(key: string, raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new MetainfoError('MAGNET_BAD_ENCODING', key, 'bad percent-encoding');
  }
}

function applyParam(b: Builder, key: string, value: string): void {
  switch (key) {
    case 'xt':
      applyXt(b, value);
      return;
    case 'dn':
      b.name = value;
      return;
    case 'tr':
      pushUnique(b.trackers, value);
      return;
    case 'ws':
      pushUnique(b.webSeeds, value);
      return;
    case 'x.pe':
      pushUnique(b.peers, value);
      return;
    case 'xl':
      b.exactLengthBytes = parseLength(value);
      return;
    case 'so':
      b.selectOnly = parseSelectOnly(value);
      return;
    default:
    // BEP 9: unknown parameters are ignored.
  }
}

function pushUnique(list: string[], value: string): void {
  if (value !== '' && !list.includes(value)) list.push(value);
}

function applyXt(b: Builder, value: string): void {
  const lower = value.toLowerCase();
  if (lower.startsWith(BTIH)) {
    setHash(b, 'infoHash', parseBtih(value.slice(BTIH.length)));
  } else if (lower.startsWith(BTMH)) {
    setHash(b, 'infoHashV2', parseBtmh(value.slice(BTMH.length)));
  }
  // Other URNs (sha1, ed2k…) name other networks: ignored, as BEP 9 allows.
}

function setHash(b: Builder, key: 'infoHash' | 'infoHashV2', hash: Uint8Array): void {
  const prev = b[key];
  if (prev && toHex(prev) !== toHex(hash)) {
    throw new MetainfoError(
      'MAGNET_CONFLICTING_XT',
      'xt',
      `two different ${key === 'infoHash' ? 'btih' : 'btmh'} info-hashes`,
    );
  }
  b[key] = hash;
}

/** BEP 9: 40 hex digits, or 32 base32 characters for the same 20 bytes. */
function parseBtih(text: string): Uint8Array {
  if (text.length === 40) {
    const bytes = fromHex(text);
    if (!bytes) throw new MetainfoError('MAGNET_BAD_HEX', 'xt', 'urn:btih: hash is not hexadecimal');
    return bytes;
  }
  if (text.length === 32) {
    const bytes = fromBase32(text);
    if (bytes?.length !== 20) {
      throw new MetainfoError('MAGNET_BAD_BASE32', 'xt', 'urn:btih: hash is not base32');
    }
    return bytes;
  }
  throw new MetainfoError(
    'MAGNET_BAD_HASH_LENGTH',
    'xt',
    `urn:btih: hash has ${text.length} characters (expected 40 hex or 32 base32)`,
  );
}

/** BEP 52: a hex multihash; only SHA-256 (`1220` + 64 hex digits) is defined. */
function parseBtmh(text: string): Uint8Array {
  if (!text.toLowerCase().startsWith(SHA256_MULTIHASH)) {
    throw new MetainfoError('MAGNET_BAD_XT', 'xt', 'urn:btmh: multihash is not SHA-256 (expected "1220…")');
  }
  const hex = text.slice(SHA256_MULTIHASH.length);
  if (hex.length !== 64) {
    throw new MetainfoError(
      'MAGNET_BAD_HASH_LENGTH',
      'xt',
      `urn:btmh: digest has ${hex.length} hex digits (expected 64)`,
    );
  }
  const bytes = fromHex(hex);
  if (!bytes) throw new MetainfoError('MAGNET_BAD_HEX', 'xt', 'urn:btmh: hash is not hexadecimal');
  return bytes;
}

function parseLength(value: string): number {
  const n = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    throw new MetainfoError('MAGNET_BAD_LENGTH', 'xl', `"${value.slice(0, 40)}" is not a byte count`);
  }
  return n;
}

/** BEP 53: `0,2,4-6` → [0, 2, 4, 5, 6]; sorted, unique, bounded before expansion. */
export function parseSelectOnly(value: string): number[] {
  const selected = new Set<number>();
  for (const part of value.split(',')) {
    const m = /^(\d{1,7})(?:-(\d{1,7}))?$/.exec(part);
    if (!m)
      throw new MetainfoError('MAGNET_BAD_SELECT', 'so', `"${part.slice(0, 40)}" is not an index or range`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > to) throw new MetainfoError('MAGNET_BAD_SELECT', 'so', `range ${part} runs backwards`);
    if (to > MAX_SELECT_INDEX) {
      throw new MetainfoError('MAGNET_BAD_SELECT', 'so', `index ${to} exceeds ${MAX_SELECT_INDEX}`);
    }
    if (selected.size + (to - from + 1) > MAX_SELECT_COUNT) {
      throw new MetainfoError('MAGNET_BAD_SELECT', 'so', `selects more than ${MAX_SELECT_COUNT} files`);
    }
    for (let i = from; i <= to; i++) selected.add(i);
  }
  return [...selected].sort((a, b) => a - b);
}

/** `[0, 2, 4, 5, 6]` → `0,2,4-6`. */
export function formatSelectOnly(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function freeze(b: Builder): MagnetLink {
  return {
    infoHash: b.infoHash,
    infoHashV2: b.infoHashV2,
    ...(b.name === undefined ? {} : { name: b.name }),
    trackers: b.trackers,
    webSeeds: b.webSeeds,
    peers: b.peers,
    ...(b.exactLengthBytes === undefined ? {} : { exactLengthBytes: b.exactLengthBytes }),
    ...(b.selectOnly === undefined ? {} : { selectOnly: b.selectOnly }),
  };
}

/** Percent-encode a value; lone surrogates (not representable in UTF-8) become U+FFFD. */
function enc(value: string): string {
  return encodeURIComponent(value.replace(/\p{Cs}/gu, '\uFFFD'));
}

/** Write a magnet link: hashes first (v1 then v2), then dn, xl, tr, ws, x.pe, so. */
export function formatMagnet(link: MagnetLink): string {
  const params: string[] = [];
  if (link.infoHash) params.push(`xt=${BTIH}${toHex(link.infoHash)}`);
  if (link.infoHashV2) params.push(`xt=${BTMH}${SHA256_MULTIHASH}${toHex(link.infoHashV2)}`);
  if (link.name !== undefined) params.push(`dn=${enc(link.name)}`);
  if (link.exactLengthBytes !== undefined) params.push(`xl=${link.exactLengthBytes}`);
  for (const tr of link.trackers) params.push(`tr=${enc(tr)}`);
  for (const ws of link.webSeeds) params.push(`ws=${enc(ws)}`);
  for (const pe of link.peers) params.push(`x.pe=${enc(pe)}`);
  if (link.selectOnly && link.selectOnly.length > 0) params.push(`so=${formatSelectOnly(link.selectOnly)}`);
  return `magnet:?${params.join('&')}`;
}

/** The magnet link of a parsed torrent: both hashes it has, its name, every tracker and web seed. */
export function magnetFromMetainfo(m: Metainfo): string {
  const trackers: string[] = [];
  for (const tier of m.announceTiers) for (const url of tier) pushUnique(trackers, url);
  return formatMagnet({
    infoHash: m.infoHash,
    infoHashV2: m.infoHashV2,
    name: m.name,
    trackers,
    webSeeds: [...m.urlList],
    peers: [],
  });
}
