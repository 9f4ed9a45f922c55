import { concatBytes, decodeUtf8Lenient, utf8 } from '../../util/bytes.js';
import { assertNever } from '../../util/errors.js';
import { TrackerError } from '../errors.js';
import {
  type AnnounceEvent,
  type AnnounceRequest,
  type AnnounceResponse,
  MAX_INTERVAL_SECONDS,
  type ScrapeStats,
} from './announce.js';
import {
  type AddressFamily,
  DEFAULT_MAX_PEERS,
  decodeCompactPeers,
  encodeCompactPeers,
  formatIpv4,
  parseIpv4,
} from './compact.js';

/**
 * UDP tracker protocol (BEP 15) with the BEP 41 URLData option, both directions.
 * All integers are big-endian. Lengths are checked before anything is read; a packet that does
 * not match its layout exactly is `TRACKER_BAD_PACKET`.
 *
 *   connect req   16: u64 protocol_id 0x41727101980 | u32 action 0 | u32 transaction_id
 *   connect res   16: u32 0 | u32 tid | u64 connection_id
 *   announce req  98: u64 cid | u32 1 | u32 tid | 20 info_hash | 20 peer_id | u64 downloaded |
 *                     u64 left | u64 uploaded | u32 event | u32 ip | u32 key | i32 num_want |
 *                     u16 port | BEP 41 options…
 *   announce res  20+6n (IPv4) or 20+18n (request came over IPv6):
 *                     u32 1 | u32 tid | u32 interval | u32 leechers | u32 seeders | peers
 *   scrape req    16+20n: u64 cid | u32 2 | u32 tid | n × info_hash
 *   scrape res    8+12n: u32 2 | u32 tid | n × (u32 seeders | u32 completed | u32 leechers)
 *   error res     8+: u32 3 | u32 tid | message
 */

export const UDP_PROTOCOL_ID = 0x41727101980n;
export const UDP_ANNOUNCE_REQUEST_BYTES = 98;
/** BEP 15: about 74 info-hashes fit in one scrape packet. */
export const UDP_MAX_SCRAPE_HASHES = 74;
/** Bound on BEP 41 URL data we accept (the sum of all URLData options). */
export const UDP_MAX_URL_DATA_BYTES = 1024;
/** Bound on a request packet (server side): an announce with generous options. */
export const UDP_MAX_REQUEST_BYTES = 2048;
const MAX_ERROR_MESSAGE_BYTES = 1024;

export const UdpAction = { connect: 0, announce: 1, scrape: 2, error: 3 } as const;
const EVENT_CODES: Record<AnnounceEvent, number> = { none: 0, completed: 1, started: 2, stopped: 3 };
const EVENTS: readonly AnnounceEvent[] = ['none', 'completed', 'started', 'stopped'];

/** BEP 41 option types. */
const OPT_END = 0;
const OPT_NOP = 1;
const OPT_URL_DATA = 2;

export type UdpScrapeCounts = Omit<ScrapeStats, 'infoHash'>;

export type UdpRequest =
  | { readonly action: 'connect'; readonly transactionId: number }
  | {
      readonly action: 'announce';
      readonly connectionId: bigint;
      readonly transactionId: number;
      readonly request: AnnounceRequest;
      /** BEP 41: path and query of the announce URL (e.g. `/announce?passkey=…`), raw bytes. */
      readonly urlData?: Uint8Array;
    }
  | {
      readonly action: 'scrape';
      readonly connectionId: bigint;
      readonly transactionId: number;
      readonly infoHashes: readonly Uint8Array[];
    };

export type UdpResponse =
  | { readonly action: 'connect'; readonly transactionId: number; readonly connectionId: bigint }
  | { readonly action: 'announce'; readonly transactionId: number; readonly response: AnnounceResponse }
  | { readonly action: 'scrape'; readonly transactionId: number; readonly files: readonly UdpScrapeCounts[] }
  | { readonly action: 'error'; readonly transactionId: number; readonly message: string };

function bad(message: string): TrackerError {
  return new TrackerError('TRACKER_BAD_PACKET', message);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u32(n: number | undefined, what: string): number {
  const v = n ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what} must be a u32`);
  return v;
}

function u64(n: number): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('counter must be a non-negative safe integer');
  return BigInt(n);
}

/** Read a u64 counter; values beyond 2^53 (some clients send 2^64-1 for "unknown") are clamped. */
function readCounter(dv: DataView, at: number): number {
  const v = dv.getBigUint64(at);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** BEP 41: URL data split into URLData options of at most 255 bytes each. */
export function encodeUrlDataOptions(urlData: Uint8Array): Uint8Array {
  if (urlData.length > UDP_MAX_URL_DATA_BYTES) throw new RangeError('URL data too long');
  const parts: Uint8Array[] = [];
  for (let at = 0; at < urlData.length; at += 255) {
    const chunk = urlData.subarray(at, at + 255);
    parts.push(Uint8Array.of(OPT_URL_DATA, chunk.length), chunk);
  }
  return concatBytes(parts);
}

/** BEP 41 URL data of an announce URL: its path and query (`/announce?passkey=x`). */
export function urlDataOf(announceUrl: string): Uint8Array {
  const m = /^udp:\/\/[^/?#]*([^#]*)/i.exec(announceUrl);
  return utf8(m?.[1] ?? '');
}

/** Parse BEP 41 options after the 98-byte announce; unknown types are skipped by length. */
export function decodeUrlDataOptions(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let at = 0;
  while (at < bytes.length) {
    const type = bytes[at++]!;
    if (type === OPT_END) break;
    if (type === OPT_NOP) continue;
    if (at >= bytes.length) throw bad('BEP 41 option without a length byte');
    const len = bytes[at++]!;
    if (at + len > bytes.length) throw bad('BEP 41 option longer than the packet');
    if (type === OPT_URL_DATA) {
      total += len;
      if (total > UDP_MAX_URL_DATA_BYTES) throw bad(`BEP 41 URL data over ${UDP_MAX_URL_DATA_BYTES} bytes`);
      parts.push(bytes.subarray(at, at + len));
    }
    at += len;
  }
  return concatBytes(parts);
}

export function encodeUdpRequest(req: UdpRequest): Uint8Array {
  switch (req.action) {
    case 'connect': {
      const out = new Uint8Array(16);
      const dv = view(out);
      dv.setBigUint64(0, UDP_PROTOCOL_ID);
      dv.setUint32(8, UdpAction.connect);
      dv.setUint32(12, u32(req.transactionId, 'transaction id'));
      return out;
    }
    case 'announce':
      return encodeAnnounceRequest(req);
    case 'scrape': {
      if (req.infoHashes.length === 0 || req.infoHashes.length > UDP_MAX_SCRAPE_HASHES) {
        throw new RangeError(`scrape needs 1..${UDP_MAX_SCRAPE_HASHES} info-hashes`);
      }
      const out = new Uint8Array(16 + 20 * req.infoHashes.length);
      const dv = view(out);
      dv.setBigUint64(0, req.connectionId);
      dv.setUint32(8, UdpAction.scrape);
      dv.setUint32(12, u32(req.transactionId, 'transaction id'));
      req.infoHashes.forEach((h, i) => {
        if (h.length !== 20) throw new RangeError('info-hash must be 20 bytes');
        out.set(h, 16 + 20 * i);
      });
      return out;
    }
    default:
      return assertNever(req, 'UDP request');
  }
}

function encodeAnnounceRequest(req: Extract<UdpRequest, { action: 'announce' }>): Uint8Array {
  const r = req.request;
  if (r.infoHash.length !== 20 || r.peerId.length !== 20)
    throw new RangeError('info-hash and peer id are 20 bytes');
  const options =
    req.urlData && req.urlData.length > 0 ? encodeUrlDataOptions(req.urlData) : new Uint8Array();
  const out = new Uint8Array(UDP_ANNOUNCE_REQUEST_BYTES + options.length);
  const dv = view(out);
  dv.setBigUint64(0, req.connectionId);
  dv.setUint32(8, UdpAction.announce);
  dv.setUint32(12, u32(req.transactionId, 'transaction id'));
  out.set(r.infoHash, 16);
  out.set(r.peerId, 36);
  dv.setBigUint64(56, u64(r.downloaded));
  dv.setBigUint64(64, u64(r.left));
  dv.setBigUint64(72, u64(r.uploaded));
  dv.setUint32(80, EVENT_CODES[r.event]);
  const ip = r.ipv4 === undefined ? null : parseIpv4(r.ipv4);
  if (ip) out.set(ip, 84);
  dv.setUint32(88, u32(r.key, 'key'));
  dv.setInt32(92, r.numWant === undefined ? -1 : Math.min(r.numWant, 0x7fffffff));
  dv.setUint16(96, r.port);
  out.set(options, UDP_ANNOUNCE_REQUEST_BYTES);
  return out;
}

/** Server side: decode a request packet. Throws `TRACKER_BAD_PACKET` on any mismatch. */
export function decodeUdpRequest(bytes: Uint8Array): UdpRequest {
  if (bytes.length < 16) throw bad(`request of ${bytes.length} bytes is shorter than 16`);
  if (bytes.length > UDP_MAX_REQUEST_BYTES) throw bad(`request of ${bytes.length} bytes is too long`);
  const dv = view(bytes);
  const connectionId = dv.getBigUint64(0);
  const action = dv.getUint32(8);
  const transactionId = dv.getUint32(12);
  switch (action) {
    case UdpAction.connect:
      if (connectionId !== UDP_PROTOCOL_ID) throw bad('connect request without the protocol id');
      if (bytes.length !== 16) throw bad('connect request must be 16 bytes');
      return { action: 'connect', transactionId };
    case UdpAction.announce:
      return decodeAnnounceRequest(bytes, dv, connectionId, transactionId);
    case UdpAction.scrape: {
      const n = (bytes.length - 16) / 20;
      if (!Number.isInteger(n) || n < 1 || n > UDP_MAX_SCRAPE_HASHES) {
        throw bad(`scrape request length ${bytes.length} is not 16 + 20·(1..${UDP_MAX_SCRAPE_HASHES})`);
      }
      const infoHashes: Uint8Array[] = [];
      for (let i = 0; i < n; i++) infoHashes.push(bytes.slice(16 + 20 * i, 36 + 20 * i));
      return { action: 'scrape', connectionId, transactionId, infoHashes };
    }
    default:
      throw bad(`unknown request action ${action}`);
  }
}

function decodeAnnounceRequest(
  bytes: Uint8Array,
  dv: DataView,
  connectionId: bigint,
  transactionId: number,
): UdpRequest {
  if (bytes.length < UDP_ANNOUNCE_REQUEST_BYTES)
    throw bad(`announce request of ${bytes.length} bytes, need 98`);
  const eventCode = dv.getUint32(80);
  const event = EVENTS[eventCode];
  if (event === undefined) throw bad(`unknown announce event ${eventCode}`);
  const port = dv.getUint16(96);
  if (port === 0) throw bad('announce with port 0');
  const numWant = dv.getInt32(92);
  const ipNumber = dv.getUint32(84);
  const request: AnnounceRequest = {
    infoHash: bytes.slice(16, 36),
    peerId: bytes.slice(36, 56),
    downloaded: readCounter(dv, 56),
    left: readCounter(dv, 64),
    uploaded: readCounter(dv, 72),
    event,
    key: dv.getUint32(88),
    port,
    ...(numWant >= 0 ? { numWant } : {}),
    ...(ipNumber !== 0 ? { ipv4: formatIpv4(bytes, 84) } : {}),
  };
  const urlData = decodeUrlDataOptions(bytes.subarray(UDP_ANNOUNCE_REQUEST_BYTES));
  return {
    action: 'announce',
    connectionId,
    transactionId,
    request,
    ...(urlData.length > 0 ? { urlData: urlData.slice() } : {}),
  };
}

/**
 * Server side: encode a response. `family` is the address family of the socket the request
 * came over: BEP 15 answers an IPv6 announce with 18-byte peers (IPv4 peers are then omitted).
 */
export function encodeUdpResponse(res: UdpResponse, family: AddressFamily = 4): Uint8Array {
  switch (res.action) {
    case 'connect': {
      const out = new Uint8Array(16);
      const dv = view(out);
      dv.setUint32(0, UdpAction.connect);
      dv.setUint32(4, u32(res.transactionId, 'transaction id'));
      dv.setBigUint64(8, res.connectionId);
      return out;
    }
    case 'announce': {
      const r = res.response;
      const peers = encodeCompactPeers(r.peers, family);
      const out = new Uint8Array(20 + peers.length);
      const dv = view(out);
      dv.setUint32(0, UdpAction.announce);
      dv.setUint32(4, u32(res.transactionId, 'transaction id'));
      dv.setUint32(8, u32(r.intervalSeconds, 'interval'));
      dv.setUint32(12, u32(r.incomplete, 'leechers'));
      dv.setUint32(16, u32(r.complete, 'seeders'));
      out.set(peers, 20);
      return out;
    }
    case 'scrape': {
      const out = new Uint8Array(8 + 12 * res.files.length);
      const dv = view(out);
      dv.setUint32(0, UdpAction.scrape);
      dv.setUint32(4, u32(res.transactionId, 'transaction id'));
      res.files.forEach((f, i) => {
        dv.setUint32(8 + 12 * i, u32(f.complete, 'seeders'));
        dv.setUint32(12 + 12 * i, u32(f.downloaded, 'completed'));
        dv.setUint32(16 + 12 * i, u32(f.incomplete, 'leechers'));
      });
      return out;
    }
    case 'error': {
      const msg = utf8(res.message).subarray(0, MAX_ERROR_MESSAGE_BYTES);
      const out = new Uint8Array(8 + msg.length);
      const dv = view(out);
      dv.setUint32(0, UdpAction.error);
      dv.setUint32(4, u32(res.transactionId, 'transaction id'));
      out.set(msg, 8);
      return out;
    }
    default:
      return assertNever(res, 'UDP response');
  }
}

/**
 * Client side: decode a response. `family` is that of the socket we sent the request on
 * (peers are 6 or 18 bytes). Throws `TRACKER_BAD_PACKET` on any length or action mismatch.
 */
export function decodeUdpResponse(
  bytes: Uint8Array,
  family: AddressFamily = 4,
  maxPeers = DEFAULT_MAX_PEERS,
): UdpResponse {
  if (bytes.length < 8) throw bad(`response of ${bytes.length} bytes is shorter than 8`);
  const dv = view(bytes);
  const action = dv.getUint32(0);
  const transactionId = dv.getUint32(4);
  switch (action) {
    case UdpAction.connect:
      if (bytes.length !== 16) throw bad(`connect response of ${bytes.length} bytes, need 16`);
      return { action: 'connect', transactionId, connectionId: dv.getBigUint64(8) };
    case UdpAction.announce: {
      if (bytes.length < 20) throw bad(`announce response of ${bytes.length} bytes, need at least 20`);
      const intervalSeconds = dv.getUint32(8);
      if (intervalSeconds > MAX_INTERVAL_SECONDS) {
        throw new TrackerError('TRACKER_BAD_INTERVAL', `interval ${intervalSeconds} s is out of range`);
      }
      let peers: AnnounceResponse['peers'];
      try {
        peers = decodeCompactPeers(bytes.subarray(20), family, maxPeers);
      } catch (err) {
        throw bad(`announce response peers: ${(err as Error).message}`);
      }
      return {
        action: 'announce',
        transactionId,
        response: {
          intervalSeconds,
          incomplete: dv.getUint32(12),
          complete: dv.getUint32(16),
          peers,
        },
      };
    }
    case UdpAction.scrape: {
      if ((bytes.length - 8) % 12 !== 0) throw bad(`scrape response of ${bytes.length} bytes is not 8 + 12n`);
      const files: UdpScrapeCounts[] = [];
      for (let at = 8; at < bytes.length; at += 12) {
        files.push({
          complete: dv.getUint32(at),
          downloaded: dv.getUint32(at + 4),
          incomplete: dv.getUint32(at + 8),
        });
      }
      return { action: 'scrape', transactionId, files };
    }
    case UdpAction.error:
      return {
        action: 'error',
        transactionId,
        message: decodeUtf8Lenient(bytes.subarray(8, 8 + MAX_ERROR_MESSAGE_BYTES)),
      };
    default:
      throw bad(`unknown response action ${action}`);
  }
}
