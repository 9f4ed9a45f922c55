/**
 * BEP 10 extension protocol: the extended handshake (extended message id 0) and the mapping
 * between extension names and message ids in each direction.
 *
 * BEP 10: "The extension message IDs are the IDs used to send the extension messages to the peer
 * sending this handshake." So incoming extended messages carry ids *we* assigned (see
 * {@link LOCAL_EXTENSION_IDS}), and outgoing ones use the ids from the peer's `m` dictionary.
 */
import { type BDict, type BEncodable, decode, encode, isDict } from '../bencode/index.js';
import { decodeUtf8Lenient } from '../util/bytes.js';
import { formatIp, parseIp } from '../util/ip.js';
import { WireError } from './errors.js';
import { EXTENSION_DECODE_LIMITS, MAX_EXTENSIONS, MAX_METADATA_BYTES } from './limits.js';

/** Extended message ids we assign to the extensions we speak. */
export const LOCAL_EXTENSION_IDS: ReadonlyMap<string, number> = new Map([
  ['ut_metadata', 1],
  ['ut_pex', 2],
]);

/** The decoded extended handshake. Absent optional fields were absent or malformed. */
export interface ExtendedHandshake {
  /** Extension name → the id to use when sending it to this peer (disabled entries, id 0, are left out). */
  readonly m: ReadonlyMap<string, number>;
  /** BEP 9 `metadata_size`; left out when outside 1..{@link MAX_METADATA_BYTES}. */
  readonly metadataSize?: number;
  /** `p`: the peer's TCP listen port. */
  readonly listenPort?: number;
  /** `v`: client name and version (display only). */
  readonly client?: string;
  /** `yourip`: how the peer sees our address. */
  readonly yourIp?: string;
  /** `reqq`: outstanding requests the peer accepts without dropping any. */
  readonly reqq?: number;
  readonly ipv4?: string;
  readonly ipv6?: string;
  /** BEP 21 `upload_only`. */
  readonly isUploadOnly?: boolean;
}

/** Longest `v` string we keep (display only). */
const MAX_CLIENT_NAME_CHARS = 100;

/** Encode the payload of an extended handshake (without the extended id byte). */
export function encodeExtendedHandshake(h: ExtendedHandshake): Uint8Array {
  const m = new Map<string, BEncodable>();
  for (const [name, id] of h.m) m.set(name, id);
  const ip = (text: string | undefined) => (text === undefined ? undefined : (parseIp(text) ?? undefined));
  return encode({
    m,
    metadata_size: h.metadataSize,
    p: h.listenPort,
    v: h.client,
    yourip: ip(h.yourIp),
    reqq: h.reqq,
    ipv4: ip(h.ipv4),
    ipv6: ip(h.ipv6),
    upload_only: h.isUploadOnly === undefined ? undefined : h.isUploadOnly ? 1 : 0,
  });
}

function intIn(d: BDict, key: string, min: number, max: number): number | undefined {
  const v = d.get(key);
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined;
}

function ipOf(d: BDict, key: string, lengths: readonly number[]): string | undefined {
  const v = d.get(key);
  return v instanceof Uint8Array && lengths.includes(v.length) ? (formatIp(v) ?? undefined) : undefined;
}

function decodeM(v: unknown): Map<string, number> {
  const m = new Map<string, number>();
  if (!(v instanceof Map)) return m;
  for (const [name, id] of v as BDict) {
    if (m.size >= MAX_EXTENSIONS) break;
    // BEP 10: ids are one byte; 0 means disabled.
    if (typeof id === 'number' && Number.isInteger(id) && id >= 1 && id <= 255) m.set(name, id);
  }
  return m;
}

/**
 * Decode an extended handshake payload. Not a bencoded dictionary → `WIRE_BAD_EXTENDED`;
 * unknown keys and malformed optional fields are ignored (BEP 10: "Any unknown names should be ignored").
 */
export function decodeExtendedHandshake(payload: Uint8Array): ExtendedHandshake {
  let d: unknown;
  try {
    d = decode(payload, EXTENSION_DECODE_LIMITS);
  } catch (err) {
    throw new WireError('WIRE_BAD_EXTENDED', 'extended handshake is not valid bencode', { cause: err });
  }
  if (!isDict(d as BDict)) throw new WireError('WIRE_BAD_EXTENDED', 'extended handshake is not a dictionary');
  const dict = d as BDict;
  const v = dict.get('v');
  const h: {
    -readonly [K in keyof ExtendedHandshake]: ExtendedHandshake[K];
  } = { m: decodeM(dict.get('m')) };
  // BEP 9: metadata beyond our named limit is never fetched from this peer.
  const metadataSize = intIn(dict, 'metadata_size', 1, MAX_METADATA_BYTES);
  if (metadataSize !== undefined) h.metadataSize = metadataSize;
  const port = intIn(dict, 'p', 1, 65535);
  if (port !== undefined) h.listenPort = port;
  if (v instanceof Uint8Array)
    h.client = decodeUtf8Lenient(v.subarray(0, MAX_CLIENT_NAME_CHARS * 4)).slice(0, MAX_CLIENT_NAME_CHARS);
  const yourIp = ipOf(dict, 'yourip', [4, 16]);
  if (yourIp !== undefined) h.yourIp = yourIp;
  const reqq = intIn(dict, 'reqq', 1, 1_000_000);
  if (reqq !== undefined) h.reqq = reqq;
  const ipv4 = ipOf(dict, 'ipv4', [4]);
  if (ipv4 !== undefined) h.ipv4 = ipv4;
  const ipv6 = ipOf(dict, 'ipv6', [16]);
  if (ipv6 !== undefined) h.ipv6 = ipv6;
  const uploadOnly = intIn(dict, 'upload_only', 0, 1);
  if (uploadOnly !== undefined) h.isUploadOnly = uploadOnly === 1;
  return h;
}

/** Name of the local extension an incoming extended id refers to, or undefined. */
export function localExtensionName(extId: number): string | undefined {
  for (const [name, id] of LOCAL_EXTENSION_IDS) if (id === extId) return name;
  return undefined;
}
