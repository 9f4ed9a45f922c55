import {
  type BDict,
  BencodeError,
  type BValue,
  binaryKey,
  decode,
  encode,
  isBytes,
  isDict,
  keyBytes,
} from '../../bencode/index.js';
import { decodeUtf8Lenient, utf8 } from '../../util/bytes.js';
import { TrackerError } from '../errors.js';
import {
  type AnnounceEvent,
  type AnnounceRequest,
  type AnnounceResponse,
  MAX_INTERVAL_SECONDS,
  MAX_SCRAPE_HASHES,
  type ScrapeStats,
} from './announce.js';
import {
  DEFAULT_MAX_PEERS,
  decodeCompactPeers,
  decodeDictPeers,
  encodeCompactPeers,
  encodeDictPeers,
  ipFamily,
  normalizeHost,
  type PeerAddress,
} from './compact.js';

/**
 * HTTP tracker wire format (BEP 3, BEP 23, BEP 7, BEP 48), both directions:
 * the client builds URLs and decodes responses; the server parses raw query strings and
 * encodes responses. Query values are bytes: `info_hash` is percent-decoded to raw bytes,
 * never through UTF-8.
 */

/** Server-side bounds on a raw query string. */
export const MAX_QUERY_LENGTH = 8192;
export const MAX_QUERY_PARAMS = 128;
const MAX_PARAM_VALUE_BYTES = 256;
const MAX_TEXT_BYTES = 1024;

// RFC 3986 unreserved characters pass through; every other byte is %XX.
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Percent-encode raw bytes (each byte, not UTF-8 of a string). */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    out += b < 0x80 && UNRESERVED.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Append a query string to a URL, keeping its own query (passkeys) and dropping a fragment. */
export function appendQuery(url: string, query: string): string {
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.slice(0, hash) : url;
  if (!base.includes('?')) return `${base}?${query}`;
  return base.endsWith('?') || base.endsWith('&') ? `${base}${query}` : `${base}&${query}`;
}

/** The query string of an announce (without `?`), in the order libtorrent sends. */
export function encodeAnnounceQuery(req: AnnounceRequest): string {
  const parts = [
    `info_hash=${percentEncodeBytes(req.infoHash)}`,
    `peer_id=${percentEncodeBytes(req.peerId)}`,
    `port=${req.port}`,
    `uploaded=${req.uploaded}`,
    `downloaded=${req.downloaded}`,
    `left=${req.left}`,
    `compact=${req.compact === false ? 0 : 1}`,
  ];
  if (req.noPeerId) parts.push('no_peer_id=1');
  if (req.event !== 'none') parts.push(`event=${req.event}`);
  if (req.numWant !== undefined) parts.push(`numwant=${req.numWant}`);
  if (req.key !== undefined) parts.push(`key=${(req.key >>> 0).toString(16).toUpperCase().padStart(8, '0')}`);
  if (req.ipv4 !== undefined) parts.push(`ipv4=${percentEncodeBytes(utf8(req.ipv4))}`);
  if (req.ipv6 !== undefined) parts.push(`ipv6=${percentEncodeBytes(utf8(req.ipv6))}`);
  if (req.trackerId !== undefined) parts.push(`trackerid=${percentEncodeBytes(req.trackerId)}`);
  return parts.join('&');
}

/** The full announce URL: the tracker's URL (query params preserved) plus our parameters. */
export function buildAnnounceUrl(announceUrl: string, req: AnnounceRequest): string {
  return appendQuery(announceUrl, encodeAnnounceQuery(req));
}

/**
 * Split a raw query string into `[name, valueBytes]` pairs, percent-decoding to bytes
 * (`+` is a space, as in forms). Bounded: length, parameter count, value size.
 */
export function parseRawQuery(rawQuery: string): Array<[string, Uint8Array]> {
  const q = rawQuery.startsWith('?') ? rawQuery.slice(1) : rawQuery;
  if (q.length > MAX_QUERY_LENGTH) {
    throw new TrackerError('TRACKER_BAD_PARAM', `query string longer than ${MAX_QUERY_LENGTH} characters`);
  }
  const out: Array<[string, Uint8Array]> = [];
  if (q.length === 0) return out;
  for (const part of q.split('&')) {
    if (part.length === 0) continue;
    if (out.length >= MAX_QUERY_PARAMS) {
      throw new TrackerError('TRACKER_BAD_PARAM', `more than ${MAX_QUERY_PARAMS} query parameters`);
    }
    const eq = part.indexOf('=');
    const nameBytes = percentDecode(eq >= 0 ? part.slice(0, eq) : part, 'name');
    const value = percentDecode(eq >= 0 ? part.slice(eq + 1) : '', 'value');
    out.push([decodeUtf8Lenient(nameBytes), value]);
  }
  return out;
}

function percentDecode(text: string, what: string): Uint8Array {
  const out = new Uint8Array(Math.min(text.length, MAX_PARAM_VALUE_BYTES + 1));
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (n > MAX_PARAM_VALUE_BYTES) {
      throw new TrackerError('TRACKER_BAD_PARAM', `query ${what} longer than ${MAX_PARAM_VALUE_BYTES} bytes`);
    }
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
        throw new TrackerError('TRACKER_BAD_PARAM', `bad percent-escape in query ${what}`);
      }
      out[n++] = Number.parseInt(hex, 16);
      i += 2;
    } else if (c === 0x2b) {
      out[n++] = 0x20;
    } else if (c > 0xff) {
      throw new TrackerError('TRACKER_BAD_PARAM', `non-byte character in query ${what}`);
    } else {
      out[n++] = c;
    }
  }
  if (n > MAX_PARAM_VALUE_BYTES) {
    throw new TrackerError('TRACKER_BAD_PARAM', `query ${what} longer than ${MAX_PARAM_VALUE_BYTES} bytes`);
  }
  return out.slice(0, n);
}

/** Server side: parse an announce query string into the shared request type. */
export function parseAnnounceQuery(rawQuery: string): AnnounceRequest {
  const params = new Map<string, Uint8Array>();
  for (const [name, value] of parseRawQuery(rawQuery)) {
    // First occurrence wins; a repeated info_hash on announce is not meaningful.
    if (!params.has(name)) params.set(name, value);
  }
  const infoHash = requireBytes(params, 'info_hash', 20);
  const peerId = requireBytes(params, 'peer_id', 20);
  const port = requireInt(params, 'port', 0xffff);
  if (port === 0) throw new TrackerError('TRACKER_BAD_PARAM', 'port must be 1..65535');
  const eventText = params.has('event') ? asciiOf(params.get('event')!) : '';
  const event = parseEvent(eventText);
  const req: {
    -readonly [K in keyof AnnounceRequest]: AnnounceRequest[K];
  } = {
    infoHash,
    peerId,
    port,
    uploaded: optionalInt(params, 'uploaded') ?? 0,
    downloaded: optionalInt(params, 'downloaded') ?? 0,
    // A missing `left` reads as 0 (scrape-like tools omit it); the server may choose otherwise.
    left: optionalInt(params, 'left') ?? 0,
    event,
    compact: asciiOf(params.get('compact') ?? utf8('1')) !== '0',
  };
  const numWant = optionalInt(params, 'numwant');
  if (numWant !== undefined) req.numWant = numWant;
  const key = params.get('key');
  if (key !== undefined) req.key = keyToU32(key);
  if (asciiOf(params.get('no_peer_id') ?? new Uint8Array()) === '1') req.noPeerId = true;
  const ipv4 = optionalHost(params, 'ipv4', 4);
  if (ipv4 !== undefined) req.ipv4 = ipv4;
  const ipv6 = optionalHost(params, 'ipv6', 6);
  if (ipv6 !== undefined) req.ipv6 = ipv6;
  const trackerId = params.get('trackerid');
  if (trackerId !== undefined && trackerId.length > 0) req.trackerId = trackerId;
  return req;
}

function parseEvent(text: string): AnnounceEvent {
  switch (text) {
    case '':
    case 'empty':
      return 'none';
    case 'started':
    case 'completed':
    case 'stopped':
      return text;
    // BEP 21 `paused`: a partial seed that stays in the swarm; treat as a regular announce.
    case 'paused':
      return 'none';
    default:
      throw new TrackerError('TRACKER_BAD_PARAM', 'event must be started, completed or stopped');
  }
}

function asciiOf(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes.subarray(0, 64));
}

function requireBytes(params: Map<string, Uint8Array>, name: string, length: number): Uint8Array {
  const v = params.get(name);
  if (v === undefined) throw new TrackerError('TRACKER_MISSING_PARAM', `missing ${name}`);
  if (v.length !== length) {
    throw new TrackerError('TRACKER_BAD_PARAM', `${name} must be ${length} bytes, got ${v.length}`);
  }
  return v;
}

function parseDecimal(bytes: Uint8Array, name: string, max: number): number {
  const text = asciiOf(bytes);
  if (bytes.length === 0 || bytes.length > 16 || !/^[0-9]+$/.test(text)) {
    // numwant may legitimately be -1 in some clients: handled by optionalInt's caller.
    throw new TrackerError('TRACKER_BAD_PARAM', `${name} must be a non-negative decimal integer`);
  }
  const n = Number(text);
  if (n > max) throw new TrackerError('TRACKER_BAD_PARAM', `${name} out of range`);
  return n;
}

function requireInt(params: Map<string, Uint8Array>, name: string, max: number): number {
  const v = params.get(name);
  if (v === undefined) throw new TrackerError('TRACKER_MISSING_PARAM', `missing ${name}`);
  return parseDecimal(v, name, max);
}

function optionalInt(params: Map<string, Uint8Array>, name: string): number | undefined {
  const v = params.get(name);
  if (v === undefined || v.length === 0) return undefined;
  // A negative numwant (-1 = default) is common in the wild: read it as "unspecified".
  if (name === 'numwant' && asciiOf(v).startsWith('-')) return undefined;
  return parseDecimal(v, name, Number.MAX_SAFE_INTEGER);
}

function optionalHost(params: Map<string, Uint8Array>, name: string, family: 4 | 6): string | undefined {
  const v = params.get(name);
  if (v === undefined || v.length === 0) return undefined;
  let text = asciiOf(v);
  // BEP 7 allows `ipv6=[addr]:port` and `ipv4=addr:port` forms: keep the address only.
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracket) text = bracket[1]!;
  else if (family === 4 && /^[0-9.]+:\d+$/.test(text)) text = text.slice(0, text.indexOf(':'));
  const host = normalizeHost(text);
  if (host === null || ipFamily(host) !== family) {
    throw new TrackerError('TRACKER_BAD_PARAM', `${name} is not an IPv${family} address`);
  }
  return host;
}

/** HTTP `key` is free text (libtorrent: 8 hex digits). Hex ≤ 8 digits is read as such; other text is hashed (FNV-1a) to a u32. */
function keyToU32(bytes: Uint8Array): number {
  const text = asciiOf(bytes);
  if (/^[0-9a-fA-F]{1,8}$/.test(text)) return Number.parseInt(text, 16) >>> 0;
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

/** Server side: the info-hashes of a scrape query (repeated `info_hash`), bounded. */
export function parseScrapeQuery(rawQuery: string, maxHashes = MAX_SCRAPE_HASHES): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const [name, value] of parseRawQuery(rawQuery)) {
    if (name !== 'info_hash') continue;
    if (value.length !== 20) {
      throw new TrackerError('TRACKER_BAD_PARAM', `info_hash must be 20 bytes, got ${value.length}`);
    }
    if (out.length >= maxHashes) {
      throw new TrackerError('TRACKER_BAD_PARAM', `more than ${maxHashes} info_hash values`);
    }
    out.push(value);
  }
  return out;
}

/**
 * BEP 48: the scrape URL is the announce URL with `announce` replaced by `scrape` in the last
 * path segment — only if that segment starts with `announce`. Null means no scrape support.
 */
export function scrapeUrlFromAnnounce(announceUrl: string): string | null {
  const q = announceUrl.search(/[?#]/);
  const path = q >= 0 ? announceUrl.slice(0, q) : announceUrl;
  const rest = q >= 0 ? announceUrl.slice(q) : '';
  const slash = path.lastIndexOf('/');
  if (slash < 0 || !/^[a-z][a-z0-9+.-]*:\/\/[^/]+\//i.test(path.slice(0, slash + 1))) return null;
  const last = path.slice(slash + 1);
  if (!last.startsWith('announce')) return null;
  return `${path.slice(0, slash + 1)}scrape${last.slice('announce'.length)}${rest}`;
}

/** The full scrape URL for some info-hashes (repeated `info_hash`), or null (BEP 48). */
export function buildScrapeUrl(announceUrl: string, infoHashes: readonly Uint8Array[]): string | null {
  const base = scrapeUrlFromAnnounce(announceUrl);
  if (base === null) return null;
  if (infoHashes.length === 0) return base;
  return appendQuery(base, infoHashes.map((h) => `info_hash=${percentEncodeBytes(h)}`).join('&'));
}

/** Server side: encode an announce response; compact splits IPv4 into `peers`, IPv6 into `peers6`. */
export function encodeAnnounceResponse(
  res: AnnounceResponse,
  options: { compact: boolean; noPeerId?: boolean },
): Uint8Array {
  const d = new Map<string, BValue>();
  d.set('interval', res.intervalSeconds);
  if (res.minIntervalSeconds !== undefined) d.set('min interval', res.minIntervalSeconds);
  if (res.complete !== undefined) d.set('complete', res.complete);
  if (res.incomplete !== undefined) d.set('incomplete', res.incomplete);
  if (options.compact) {
    d.set('peers', encodeCompactPeers(res.peers, 4));
    const v6 = encodeCompactPeers(res.peers, 6);
    if (v6.length > 0) d.set('peers6', v6);
  } else {
    d.set('peers', encodeDictPeers(res.peers, !options.noPeerId));
  }
  if (res.warning !== undefined) d.set('warning message', utf8(res.warning));
  if (res.trackerId !== undefined) d.set('tracker id', res.trackerId);
  return encode(d);
}

/** Server side: a bencoded `failure reason` (also used for scrape failures). */
export function encodeFailure(reason: string): Uint8Array {
  return encode(new Map([['failure reason', utf8(reason)]]));
}

/** Decode a response body to its root dict; throws `TRACKER_NOT_BENCODE` / `TRACKER_FAILURE`. */
function decodeBody(body: Uint8Array, maxBytes: number): BDict {
  let root: BValue;
  try {
    root = decode(body, { maxBytes, maxDepth: 8, maxItems: 200_000 });
  } catch (err) {
    if (err instanceof BencodeError) {
      throw new TrackerError('TRACKER_NOT_BENCODE', `tracker response is not bencode: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
  if (!isDict(root)) throw new TrackerError('TRACKER_NOT_BENCODE', 'tracker response is not a dictionary');
  const failure = root.get('failure reason');
  if (failure !== undefined) {
    const reason = isBytes(failure) ? textOf(failure) : 'unreadable failure reason';
    throw new TrackerError('TRACKER_FAILURE', `tracker failure: ${reason}`, { failureReason: reason });
  }
  return root;
}

function textOf(bytes: Uint8Array): string {
  return decodeUtf8Lenient(bytes.subarray(0, MAX_TEXT_BYTES));
}

function readCount(d: BDict, key: string): number | undefined {
  const v = d.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || v < 0) {
    throw new TrackerError('TRACKER_BAD_RESPONSE', `${key} must be a non-negative integer`);
  }
  return v;
}

function readInterval(d: BDict, key: string): number | undefined {
  const v = d.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || v < 0 || v > MAX_INTERVAL_SECONDS) {
    throw new TrackerError('TRACKER_BAD_INTERVAL', `${key} must be an integer in 0..${MAX_INTERVAL_SECONDS}`);
  }
  return v;
}

export interface DecodeResponseOptions {
  /** Cap on peers kept from this response (IPv4 + IPv6). */
  maxPeers?: number;
  /** Cap on the body already enforced by the transport; the decoder checks it again. */
  maxBytes?: number;
}

/** Default `interval` when a tracker omits it (libtorrent does the same). */
export const DEFAULT_INTERVAL_SECONDS = 1800;

/** Client side: decode an announce response. Any problem is a `TrackerError`. */
export function decodeAnnounceResponse(
  body: Uint8Array,
  options: DecodeResponseOptions = {},
): AnnounceResponse {
  const maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS;
  const d = decodeBody(body, options.maxBytes ?? 2 * 1024 * 1024);
  const res: { -readonly [K in keyof AnnounceResponse]: AnnounceResponse[K] } = {
    intervalSeconds: readInterval(d, 'interval') ?? DEFAULT_INTERVAL_SECONDS,
    peers: [],
  };
  const minInterval = readInterval(d, 'min interval');
  if (minInterval !== undefined) res.minIntervalSeconds = minInterval;
  const complete = readCount(d, 'complete');
  if (complete !== undefined) res.complete = complete;
  const incomplete = readCount(d, 'incomplete');
  if (incomplete !== undefined) res.incomplete = incomplete;
  const peers: PeerAddress[] = [];
  const p4 = d.get('peers');
  if (p4 !== undefined)
    peers.push(...(isBytes(p4) ? decodeCompactPeers(p4, 4, maxPeers) : decodeDictPeers(p4, maxPeers)));
  const p6 = d.get('peers6');
  if (p6 !== undefined && peers.length < maxPeers) {
    if (!isBytes(p6)) throw new TrackerError('TRACKER_BAD_PEERS', 'peers6 is not a string');
    peers.push(...decodeCompactPeers(p6, 6, maxPeers - peers.length));
  }
  res.peers = peers;
  const warning = d.get('warning message');
  if (isBytes(warning)) res.warning = textOf(warning);
  const trackerId = d.get('tracker id');
  if (isBytes(trackerId) && trackerId.length > 0 && trackerId.length <= MAX_PARAM_VALUE_BYTES) {
    res.trackerId = trackerId;
  }
  return res;
}

/** Server side: a BEP 48 scrape response (`files` keyed by raw 20-byte info-hash). */
export function encodeScrapeResponse(files: readonly ScrapeStats[]): Uint8Array {
  const f = new Map<string, BValue>();
  for (const s of files) {
    f.set(
      binaryKey(s.infoHash),
      new Map<string, BValue>([
        ['complete', s.complete],
        ['downloaded', s.downloaded],
        ['incomplete', s.incomplete],
      ]),
    );
  }
  return encode(new Map([['files', f]]));
}

/** Client side: decode a scrape response; entries whose key is not 20 bytes are skipped. */
export function decodeScrapeResponse(
  body: Uint8Array,
  options: { maxBytes?: number; maxFiles?: number } = {},
): ScrapeStats[] {
  const d = decodeBody(body, options.maxBytes ?? 2 * 1024 * 1024);
  const files = d.get('files');
  if (!isDict(files))
    throw new TrackerError('TRACKER_BAD_RESPONSE', 'scrape response has no files dictionary');
  const out: ScrapeStats[] = [];
  const maxFiles = options.maxFiles ?? 10_000;
  for (const [key, value] of files) {
    if (out.length >= maxFiles) break;
    if (key.length !== 20 || !isDict(value)) continue;
    out.push({
      infoHash: keyBytes(key),
      complete: readCount(value, 'complete') ?? 0,
      downloaded: readCount(value, 'downloaded') ?? 0,
      incomplete: readCount(value, 'incomplete') ?? 0,
    });
  }
  return out;
}
