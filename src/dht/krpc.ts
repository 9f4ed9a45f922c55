/**
 * KRPC, the DHT's message format (BEP 5), with the fields of BEP 32 (`nodes6`, `want`), BEP 42
 * (`ip`), BEP 43 (`ro`), BEP 44 (`get`/`put`) and BEP 51 (`sample_infohashes`).
 *
 * Every datagram comes from a stranger, so decoding checks each field's type and size before it
 * is used: ids are exactly 20 bytes, compact node strings a multiple of 26 (IPv4) or 38 (IPv6)
 * bytes and at most `MAX_COMPACT_NODES` entries, tokens at most 64 bytes, `values` at most
 * `MAX_VALUES` entries of 6 or 18 bytes, `t` at most 16 bytes. Unknown keys are ignored (BEP 5
 * says newer clients add fields). The only errors that escape are `KrpcError`s.
 *
 * A response does not say which query it answers, so `r` decodes into one record of optional,
 * validated fields; the node checks that the fields its query needs are there.
 */
import {
  type BDict,
  type BEncodable,
  BencodeError,
  type BValue,
  decodeDocument,
  encode,
  isBytes,
  isDict,
  isList,
  RawBencode,
} from '../bencode/index.js';
import { decodeUtf8Lenient, utf8 } from '../util/bytes.js';
import { type AddressFamily, formatIpv4, formatIpv6, type PeerAddress } from '../util/ip.js';
import { DhtError, type DhtErrorCode } from './errors.js';
import { ipBytes } from './ip-cache.js';

export const NODE_ID_BYTES = 20;
export const MAX_TRANSACTION_ID_BYTES = 16;
export const MAX_TOKEN_BYTES = 64;
/** More than any client sends (k = 8, libtorrent sends up to 8 per family); the rest is refused. */
export const MAX_COMPACT_NODES = 16;
/** BEP 5 values: enough for a full answer within one MTU-sized datagram, with room to spare. */
export const MAX_VALUES = 200;
/** BEP 51 samples per response: 20 bytes each, so this keeps a response within ~1.5 KiB. */
export const MAX_SAMPLES = 64;
/** BEP 44: "whose encoded size <= 1000". */
export const MAX_ITEM_VALUE_BYTES = 1000;
/** BEP 44: "The salt string MUST NOT be longer than 64 bytes." */
export const MAX_SALT_BYTES = 64;
/** Longer error strings are cut (they are only ever shown). */
export const MAX_ERROR_MESSAGE_BYTES = 256;
/** Longer client versions are ignored. */
export const MAX_CLIENT_VERSION_BYTES = 16;
/** Longer method names are refused. */
const MAX_METHOD_BYTES = 32;

/** Limits for the bencode layer: a KRPC datagram fits a path MTU; BEP 44 values add depth. */
export const KRPC_DECODE_LIMITS = {
  maxBytes: 4096,
  maxDepth: 16,
  maxItems: 1024,
  maxIntegerDigits: 20,
} as const;

/** BEP 5 error codes, and BEP 44's. */
export const KrpcErrorCode = {
  Generic: 201,
  Server: 202,
  Protocol: 203,
  MethodUnknown: 204,
  ValueTooBig: 205,
  InvalidSignature: 206,
  SaltTooBig: 207,
  CasMismatch: 301,
  SeqTooLow: 302,
} as const;

export class KrpcError extends DhtError {
  /** The `t` of the offending message when it could be read, so a query can get a 203 error. */
  readonly transactionId: Uint8Array | null;
  /** True when the message was recognisably a query (`y` = `q`). */
  readonly isQuery: boolean;

  constructor(code: DhtErrorCode, message: string, transactionId: Uint8Array | null = null, isQuery = false) {
    super(code, message);
    this.transactionId = transactionId;
    this.isQuery = isQuery;
  }
}

/** A DHT node as the compact node info of BEP 5 / BEP 32 carries it. */
export interface NodeContact {
  readonly id: Uint8Array;
  readonly host: string;
  readonly port: number;
}

export type WantFamily = 'n4' | 'n6';

export type KrpcQuery =
  | { readonly method: 'ping' }
  | { readonly method: 'find_node'; readonly target: Uint8Array; readonly want?: readonly WantFamily[] }
  | {
      readonly method: 'get_peers';
      readonly infoHash: Uint8Array;
      readonly want?: readonly WantFamily[];
      readonly noSeed?: boolean;
    }
  | {
      readonly method: 'announce_peer';
      readonly infoHash: Uint8Array;
      readonly port: number;
      readonly token: Uint8Array;
      readonly impliedPort: boolean;
      readonly seed?: boolean;
    }
  | {
      readonly method: 'get';
      readonly target: Uint8Array;
      readonly seq?: number;
      readonly want?: readonly WantFamily[];
    }
  | {
      readonly method: 'put';
      readonly token: Uint8Array;
      /** The value's exact bencoded bytes (what BEP 44 hashes and signs). */
      readonly v: Uint8Array;
      readonly k?: Uint8Array;
      readonly sig?: Uint8Array;
      readonly seq?: number;
      readonly cas?: number;
      readonly salt?: Uint8Array;
    }
  | {
      readonly method: 'sample_infohashes';
      readonly target: Uint8Array;
      readonly want?: readonly WantFamily[];
    }
  /** A method we do not know: answered with error 204. */
  | { readonly method: 'unknown'; readonly name: string };

export type KrpcMethod = KrpcQuery['method'];

/** The fields a response may carry; which ones are required depends on the query. */
export interface KrpcResponse {
  readonly id: Uint8Array;
  readonly nodes?: readonly NodeContact[];
  readonly nodes6?: readonly NodeContact[];
  readonly values?: readonly PeerAddress[];
  readonly token?: Uint8Array;
  /** BEP 44: the item value's exact bencoded bytes. */
  readonly v?: Uint8Array;
  readonly k?: Uint8Array;
  readonly sig?: Uint8Array;
  readonly seq?: number;
  /** BEP 51. */
  readonly samples?: readonly Uint8Array[];
  readonly num?: number;
  readonly interval?: number;
}

interface Envelope {
  readonly t: Uint8Array;
  /** Client version (`v` at the top level). */
  readonly version?: Uint8Array;
}

export type KrpcMessage =
  | (Envelope & {
      readonly y: 'q';
      readonly id: Uint8Array;
      readonly query: KrpcQuery;
      readonly readOnly: boolean;
    })
  | (Envelope & { readonly y: 'r'; readonly ip?: PeerAddress; readonly response: KrpcResponse })
  | (Envelope & {
      readonly y: 'e';
      readonly ip?: PeerAddress;
      readonly error: { readonly code: number; readonly message: string };
    });

// ---------------------------------------------------------------------------------------------
// Decoding

/** Decode one datagram. Throws only `KrpcError`. */
export function decodeKrpc(bytes: Uint8Array): KrpcMessage {
  let doc: ReturnType<typeof decodeDocument>;
  try {
    doc = decodeDocument(bytes, { ...KRPC_DECODE_LIMITS, spanDepth: 2 });
  } catch (err) {
    const detail = err instanceof BencodeError ? err.code : 'invalid';
    throw new KrpcError('KRPC_BENCODE', `not a KRPC datagram (${detail})`);
  }
  const root = doc.value;
  if (!isDict(root)) throw new KrpcError('KRPC_MALFORMED', 'a KRPC message is a dictionary');
  const t = root.get('t');
  if (!isBytes(t) || t.length > MAX_TRANSACTION_ID_BYTES)
    throw new KrpcError('KRPC_MALFORMED', 't must be a string of at most 16 bytes');
  const y = root.get('y');
  const kind = isBytes(y) && y.length === 1 ? String.fromCharCode(y[0]!) : '';
  const ctx = new Ctx(t, kind === 'q', (value) => {
    const span = doc.spanOf(value as object);
    return span ? bytes.subarray(span.start, span.end) : encode(value as BEncodable);
  });
  const version = clientVersion(root.get('v'));
  const base = version ? { t, version } : { t };
  switch (kind) {
    case 'q':
      return decodeQuery(root, base, ctx);
    case 'r': {
      const r = root.get('r');
      if (!isDict(r)) throw ctx.fail('KRPC_MALFORMED', 'r must be a dictionary');
      const ip = optionalIp(root.get('ip'));
      return { ...base, y: 'r', ...(ip ? { ip } : {}), response: decodeResponse(r, ctx) };
    }
    case 'e': {
      const ip = optionalIp(root.get('ip'));
      return { ...base, y: 'e', ...(ip ? { ip } : {}), error: decodeErrorBody(root.get('e'), ctx) };
    }
    default:
      throw ctx.fail('KRPC_MALFORMED', 'y must be q, r or e');
  }
}

/** Carries what an error needs (the transaction id) and how to get a value's exact bytes. */
class Ctx {
  constructor(
    readonly t: Uint8Array,
    readonly isQuery: boolean,
    readonly rawOf: (value: BValue) => Uint8Array,
  ) {}

  fail(code: DhtErrorCode, message: string): KrpcError {
    return new KrpcError(code, message, this.t, this.isQuery);
  }
}

function clientVersion(v: BValue | undefined): Uint8Array | undefined {
  return isBytes(v) && v.length <= MAX_CLIENT_VERSION_BYTES ? v : undefined;
}

/** BEP 42 `ip`: a compact address; anything else is ignored (it is advisory). */
function optionalIp(v: BValue | undefined): PeerAddress | undefined {
  if (!isBytes(v)) return undefined;
  if (v.length === 6) return { host: formatIpv4(v), port: (v[4]! << 8) | v[5]! };
  if (v.length === 18) return { host: formatIpv6(v), port: (v[16]! << 8) | v[17]! };
  return undefined;
}

function decodeQuery(root: BDict, base: Envelope, ctx: Ctx): KrpcMessage {
  const q = root.get('q');
  if (!isBytes(q) || q.length === 0 || q.length > MAX_METHOD_BYTES)
    throw ctx.fail('KRPC_MALFORMED', 'q must be a method name');
  const a = root.get('a');
  if (!isDict(a)) throw ctx.fail('KRPC_MALFORMED', 'a must be a dictionary');
  const id = requireId(a, 'id', ctx);
  const ro = root.get('ro') ?? a.get('ro');
  const readOnly = ro === 1;
  const name = decodeUtf8Lenient(q);
  return { ...base, y: 'q', id, readOnly, query: decodeArguments(name, a, ctx) };
}

function decodeArguments(name: string, a: BDict, ctx: Ctx): KrpcQuery {
  switch (name) {
    case 'ping':
      return { method: 'ping' };
    case 'find_node':
      return withWant({ method: 'find_node', target: requireId(a, 'target', ctx) }, a, ctx);
    case 'get_peers': {
      const noSeed = optionalFlag(a, 'noseed', ctx);
      const base = { method: 'get_peers' as const, infoHash: requireId(a, 'info_hash', ctx) };
      return withWant(noSeed === undefined ? base : { ...base, noSeed }, a, ctx);
    }
    case 'announce_peer':
      return decodeAnnounce(a, ctx);
    case 'get': {
      const seq = optionalSeq(a, 'seq', ctx);
      const base = { method: 'get' as const, target: requireId(a, 'target', ctx) };
      return withWant(seq === undefined ? base : { ...base, seq }, a, ctx);
    }
    case 'put':
      return decodePut(a, ctx);
    case 'sample_infohashes':
      return withWant({ method: 'sample_infohashes', target: requireId(a, 'target', ctx) }, a, ctx);
    default:
      return { method: 'unknown', name: name.slice(0, MAX_METHOD_BYTES) };
  }
}

function decodeAnnounce(a: BDict, ctx: Ctx): KrpcQuery {
  const infoHash = requireId(a, 'info_hash', ctx);
  const token = requireBytes(a, 'token', 1, MAX_TOKEN_BYTES, ctx);
  const impliedPort = optionalFlag(a, 'implied_port', ctx) ?? false;
  const port = a.get('port');
  // BEP 5: with implied_port the UDP source port is used and `port` may be anything (or absent).
  if (
    port !== undefined &&
    (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 0xffff)
  )
    throw ctx.fail('KRPC_BAD_FIELD', 'port must be 0..65535');
  if (!impliedPort && (port === undefined || port === 0))
    throw ctx.fail('KRPC_MISSING_FIELD', 'announce_peer needs a port');
  const seed = optionalFlag(a, 'seed', ctx);
  return {
    method: 'announce_peer',
    infoHash,
    port: (port as number | undefined) ?? 0,
    token,
    impliedPort,
    ...(seed === undefined ? {} : { seed }),
  };
}

function decodePut(a: BDict, ctx: Ctx): KrpcQuery {
  const token = requireBytes(a, 'token', 1, MAX_TOKEN_BYTES, ctx);
  const value = a.get('v');
  if (value === undefined) throw ctx.fail('KRPC_MISSING_FIELD', 'put needs v');
  const v = ctx.rawOf(value);
  if (v.length > MAX_ITEM_VALUE_BYTES) throw ctx.fail('KRPC_BAD_FIELD', 'v is over 1000 bytes');
  const k = optionalBytes(a, 'k', 32, 32, ctx);
  const sig = optionalBytes(a, 'sig', 64, 64, ctx);
  const seq = optionalSeq(a, 'seq', ctx);
  const cas = optionalSeq(a, 'cas', ctx);
  const salt = optionalBytes(a, 'salt', 0, MAX_SALT_BYTES, ctx);
  if (k !== undefined && (sig === undefined || seq === undefined))
    throw ctx.fail('KRPC_MISSING_FIELD', 'a mutable put needs k, sig and seq');
  return {
    method: 'put',
    token,
    v,
    ...(k === undefined ? {} : { k }),
    ...(sig === undefined ? {} : { sig }),
    ...(seq === undefined ? {} : { seq }),
    ...(cas === undefined ? {} : { cas }),
    ...(salt === undefined ? {} : { salt }),
  };
}

function withWant<Q extends KrpcQuery>(query: Q, a: BDict, ctx: Ctx): Q {
  const want = a.get('want');
  if (want === undefined) return query;
  if (!isList(want) || want.length > 4) throw ctx.fail('KRPC_BAD_FIELD', 'want must be a short list');
  const out: WantFamily[] = [];
  for (const w of want) {
    if (!isBytes(w)) throw ctx.fail('KRPC_BAD_FIELD', 'want entries are strings');
    const text = w.length === 2 ? String.fromCharCode(w[0]!, w[1]!) : '';
    if ((text === 'n4' || text === 'n6') && !out.includes(text)) out.push(text);
  }
  return { ...query, want: out };
}

function decodeResponse(r: BDict, ctx: Ctx): KrpcResponse {
  const id = requireId(r, 'id', ctx);
  const out: { -readonly [K in keyof KrpcResponse]: KrpcResponse[K] } = { id };
  const nodes = r.get('nodes');
  if (nodes !== undefined) out.nodes = decodeCompactNodes(nodes, 4, ctx);
  const nodes6 = r.get('nodes6');
  if (nodes6 !== undefined) out.nodes6 = decodeCompactNodes(nodes6, 6, ctx);
  const values = r.get('values');
  if (values !== undefined) out.values = decodeValues(values, ctx);
  const token = optionalBytes(r, 'token', 1, MAX_TOKEN_BYTES, ctx);
  if (token !== undefined) out.token = token;
  const v = r.get('v');
  if (v !== undefined) {
    const raw = ctx.rawOf(v);
    if (raw.length > MAX_ITEM_VALUE_BYTES) throw ctx.fail('KRPC_BAD_FIELD', 'v is over 1000 bytes');
    out.v = raw;
  }
  const k = optionalBytes(r, 'k', 32, 32, ctx);
  if (k !== undefined) out.k = k;
  const sig = optionalBytes(r, 'sig', 64, 64, ctx);
  if (sig !== undefined) out.sig = sig;
  const seq = optionalSeq(r, 'seq', ctx);
  if (seq !== undefined) out.seq = seq;
  const samples = r.get('samples');
  if (samples !== undefined) {
    if (
      !isBytes(samples) ||
      samples.length % NODE_ID_BYTES !== 0 ||
      samples.length > MAX_SAMPLES * NODE_ID_BYTES
    )
      throw ctx.fail('KRPC_BAD_FIELD', 'samples must be at most 64 20-byte hashes');
    const list: Uint8Array[] = [];
    for (let i = 0; i < samples.length; i += NODE_ID_BYTES) list.push(samples.subarray(i, i + NODE_ID_BYTES));
    out.samples = list;
  }
  const num = optionalSeq(r, 'num', ctx);
  if (num !== undefined) out.num = num;
  const interval = optionalSeq(r, 'interval', ctx);
  if (interval !== undefined) out.interval = interval;
  return out;
}

function decodeErrorBody(e: BValue | undefined, ctx: Ctx): { code: number; message: string } {
  if (!isList(e) || e.length < 1) throw ctx.fail('KRPC_MALFORMED', 'e must be a list [code, message]');
  const code = e[0];
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 0xffff)
    throw ctx.fail('KRPC_BAD_FIELD', 'error code must be a small integer');
  const message = e[1];
  const text = isBytes(message) ? decodeUtf8Lenient(message.subarray(0, MAX_ERROR_MESSAGE_BYTES)) : '';
  return { code, message: text };
}

/** Compact node info of one family: 26 (IPv4) or 38 (IPv6) bytes each, length checked first. */
export function decodeCompactNodes(value: BValue, family: AddressFamily, ctx?: Ctx): NodeContact[] {
  const size = family === 4 ? 26 : 38;
  const key = family === 4 ? 'nodes' : 'nodes6';
  const fail = (msg: string) =>
    ctx ? ctx.fail('KRPC_BAD_FIELD', msg) : new KrpcError('KRPC_BAD_FIELD', msg);
  if (!isBytes(value) || value.length % size !== 0) throw fail(`${key} must be a multiple of ${size} bytes`);
  if (value.length > MAX_COMPACT_NODES * size)
    throw fail(`${key} holds more than ${MAX_COMPACT_NODES} nodes`);
  const out: NodeContact[] = [];
  for (let at = 0; at < value.length; at += size) {
    const port = (value[at + size - 2]! << 8) | value[at + size - 1]!;
    const host = family === 4 ? formatIpv4(value, at + 20) : formatIpv6(value, at + 20);
    // Port 0 cannot be reached; such an entry is skipped rather than failing the whole answer.
    if (port !== 0) out.push({ id: value.subarray(at, at + 20), host, port });
  }
  return out;
}

function decodeValues(value: BValue, ctx: Ctx): PeerAddress[] {
  if (!isList(value) || value.length > MAX_VALUES)
    throw ctx.fail('KRPC_BAD_FIELD', `values must be a list of at most ${MAX_VALUES}`);
  const out: PeerAddress[] = [];
  for (const entry of value) {
    if (!isBytes(entry) || (entry.length !== 6 && entry.length !== 18))
      throw ctx.fail('KRPC_BAD_FIELD', 'a value is a 6- or 18-byte compact peer');
    const n = entry.length;
    const port = (entry[n - 2]! << 8) | entry[n - 1]!;
    if (port === 0) continue;
    out.push({ host: n === 6 ? formatIpv4(entry) : formatIpv6(entry), port });
  }
  return out;
}

function requireId(d: BDict, key: string, ctx: Ctx): Uint8Array {
  const v = d.get(key);
  if (v === undefined) throw ctx.fail('KRPC_MISSING_FIELD', `${key} is missing`);
  if (!isBytes(v) || v.length !== NODE_ID_BYTES) throw ctx.fail('KRPC_BAD_FIELD', `${key} must be 20 bytes`);
  return v;
}

function requireBytes(d: BDict, key: string, min: number, max: number, ctx: Ctx): Uint8Array {
  const v = optionalBytes(d, key, min, max, ctx);
  if (v === undefined) throw ctx.fail('KRPC_MISSING_FIELD', `${key} is missing`);
  return v;
}

function optionalBytes(d: BDict, key: string, min: number, max: number, ctx: Ctx): Uint8Array | undefined {
  const v = d.get(key);
  if (v === undefined) return undefined;
  if (!isBytes(v) || v.length < min || v.length > max)
    throw ctx.fail(
      'KRPC_BAD_FIELD',
      `${key} must be a string of ${min === max ? min : `${min}..${max}`} bytes`,
    );
  return v;
}

function optionalFlag(d: BDict, key: string, ctx: Ctx): boolean | undefined {
  const v = d.get(key);
  if (v === undefined) return undefined;
  if (v !== 0 && v !== 1) throw ctx.fail('KRPC_BAD_FIELD', `${key} must be 0 or 1`);
  return v === 1;
}

/** A non-negative safe integer (BEP 44 `seq` must not be negative; ours stay below 2^53). */
function optionalSeq(d: BDict, key: string, ctx: Ctx): number | undefined {
  const v = d.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw ctx.fail('KRPC_BAD_FIELD', `${key} must be a non-negative integer below 2^53`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Compact node info of the nodes of one family (others are skipped). */
export function encodeCompactNodes(nodes: readonly NodeContact[], family: AddressFamily): Uint8Array {
  const size = family === 4 ? 26 : 38;
  const out = new Uint8Array(nodes.length * size);
  let n = 0;
  for (const node of nodes) {
    const ip = ipBytes(node.host);
    if (
      !ip ||
      ip.length !== (family === 4 ? 4 : 16) ||
      node.id.length !== NODE_ID_BYTES ||
      node.port <= 0 ||
      node.port > 0xffff
    )
      continue;
    const at = n * size;
    out.set(node.id, at);
    out.set(ip, at + 20);
    out[at + size - 2] = node.port >> 8;
    out[at + size - 1] = node.port & 0xff;
    n++;
  }
  return out.subarray(0, n * size);
}

/** One compact peer (6 or 18 bytes); null for a name or an invalid port. */
export function compactAddress(address: PeerAddress): Uint8Array | null {
  const ip = ipBytes(address.host);
  if (!ip || !Number.isInteger(address.port) || address.port < 0 || address.port > 0xffff) return null;
  const out = new Uint8Array(ip.length + 2);
  out.set(ip);
  out[ip.length] = address.port >> 8;
  out[ip.length + 1] = address.port & 0xff;
  return out;
}

type Mutable = { [key: string]: BEncodable | undefined };

function encodeArguments(id: Uint8Array, query: KrpcQuery): Mutable {
  const a: Mutable = { id };
  switch (query.method) {
    case 'ping':
      break;
    case 'find_node':
    case 'sample_infohashes':
      a.target = query.target;
      if (query.want) a.want = query.want.map((w) => utf8(w));
      break;
    case 'get_peers':
      a.info_hash = query.infoHash;
      if (query.noSeed !== undefined) a.noseed = query.noSeed ? 1 : 0;
      if (query.want) a.want = query.want.map((w) => utf8(w));
      break;
    case 'announce_peer':
      a.info_hash = query.infoHash;
      a.port = query.port;
      a.token = query.token;
      a.implied_port = query.impliedPort ? 1 : 0;
      if (query.seed !== undefined) a.seed = query.seed ? 1 : 0;
      break;
    case 'get':
      a.target = query.target;
      if (query.seq !== undefined) a.seq = query.seq;
      if (query.want) a.want = query.want.map((w) => utf8(w));
      break;
    case 'put':
      a.token = query.token;
      a.v = new RawBencode(query.v);
      a.k = query.k;
      a.sig = query.sig;
      a.seq = query.seq;
      a.cas = query.cas;
      a.salt = query.salt;
      break;
    case 'unknown':
      break;
  }
  return a;
}

function encodeResponseBody(r: KrpcResponse): Mutable {
  const out: Mutable = { id: r.id };
  if (r.nodes) out.nodes = encodeCompactNodes(r.nodes, 4);
  if (r.nodes6) out.nodes6 = encodeCompactNodes(r.nodes6, 6);
  if (r.values) out.values = r.values.map(compactAddress).filter((v): v is Uint8Array => v !== null);
  if (r.token) out.token = r.token;
  if (r.v) out.v = new RawBencode(r.v);
  if (r.k) out.k = r.k;
  if (r.sig) out.sig = r.sig;
  if (r.seq !== undefined) out.seq = r.seq;
  if (r.samples) out.samples = concat(r.samples);
  if (r.num !== undefined) out.num = r.num;
  if (r.interval !== undefined) out.interval = r.interval;
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Encode a message; decodeKrpc(encodeKrpc(m)) gives `m` back, and its bytes re-encode exactly. */
export function encodeKrpc(message: KrpcMessage): Uint8Array {
  const doc: Mutable = { t: message.t, y: message.y };
  if (message.version) doc.v = message.version;
  switch (message.y) {
    case 'q':
      doc.q = message.query.method === 'unknown' ? message.query.name : message.query.method;
      doc.a = encodeArguments(message.id, message.query);
      // BEP 43: `ro` sits at the top level of the query.
      if (message.readOnly) doc.ro = 1;
      break;
    case 'r':
      if (message.ip) doc.ip = compactAddress(message.ip) ?? undefined;
      doc.r = encodeResponseBody(message.response);
      break;
    case 'e':
      if (message.ip) doc.ip = compactAddress(message.ip) ?? undefined;
      doc.e = [message.error.code, message.error.message];
      break;
  }
  return encode(doc);
}
