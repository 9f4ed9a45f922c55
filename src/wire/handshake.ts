/**
 * BEP 3 handshake: `<19>"BitTorrent protocol"<8 reserved><20 info-hash><20 peer id>` (68 bytes),
 * the reserved-bit feature flags, peer-id generation and client-name decoding.
 */
import { bytesEqual } from '../util/bytes.js';
import type { Random } from '../util/random.js';
import { WireError } from './errors.js';
import { HANDSHAKE_BYTES } from './limits.js';

const PROTOCOL = 'BitTorrent protocol';
const PROTOCOL_BYTES = Uint8Array.from(PROTOCOL, (c) => c.charCodeAt(0));

/** Feature bits carried in the 8 reserved bytes. */
export interface HandshakeFeatures {
  /** BEP 10 extension protocol: reserved[5] & 0x10 (bit 20 counted from the right). */
  readonly extensions: boolean;
  /** BEP 6 fast extension: reserved[7] & 0x04. */
  readonly fast: boolean;
  /** BEP 5 DHT: reserved[7] & 0x01. */
  readonly dht: boolean;
  /** BEP 52 upgrade to v2: reserved[7] & 0x10 ("4th most significant bit in the last byte"). */
  readonly v2: boolean;
}

export const NO_FEATURES: HandshakeFeatures = { extensions: false, fast: false, dht: false, v2: false };

export interface Handshake {
  /** The raw reserved bytes (unknown bits kept for diagnostics). */
  readonly reserved: Uint8Array;
  readonly features: HandshakeFeatures;
  /** 20 bytes (for v2 torrents, the SHA-256 info-hash truncated to 20 bytes, BEP 52). */
  readonly infoHash: Uint8Array;
  readonly peerId: Uint8Array;
}

/** The 8 reserved bytes for a feature set. */
export function encodeReserved(f: HandshakeFeatures): Uint8Array {
  const r = new Uint8Array(8);
  if (f.extensions) r[5] = 0x10;
  r[7] = (f.fast ? 0x04 : 0) | (f.dht ? 0x01 : 0) | (f.v2 ? 0x10 : 0);
  return r;
}

export function decodeReserved(r: Uint8Array): HandshakeFeatures {
  const b5 = r[5] ?? 0;
  const b7 = r[7] ?? 0;
  return {
    extensions: (b5 & 0x10) !== 0,
    fast: (b7 & 0x04) !== 0,
    dht: (b7 & 0x01) !== 0,
    v2: (b7 & 0x10) !== 0,
  };
}

/** Encode a 68-byte handshake. Programmer errors (wrong id lengths) throw RangeError. */
export function encodeHandshake(h: {
  features: HandshakeFeatures;
  infoHash: Uint8Array;
  peerId: Uint8Array;
}): Uint8Array {
  if (h.infoHash.length !== 20 || h.peerId.length !== 20)
    throw new RangeError('info-hash and peer id must be 20 bytes');
  const out = new Uint8Array(HANDSHAKE_BYTES);
  out[0] = 19;
  out.set(PROTOCOL_BYTES, 1);
  out.set(encodeReserved(h.features), 20);
  out.set(h.infoHash, 28);
  out.set(h.peerId, 48);
  return out;
}

/** Decode the first 68 bytes of `buf` as a handshake (`WIRE_BAD_HANDSHAKE` if not one). Copies the fields. */
export function decodeHandshake(buf: Uint8Array): Handshake {
  if (buf.length < HANDSHAKE_BYTES)
    throw new WireError('WIRE_BAD_HANDSHAKE', 'handshake is shorter than 68 bytes');
  if (buf[0] !== 19 || !bytesEqual(buf.subarray(1, 20), PROTOCOL_BYTES)) {
    throw new WireError('WIRE_BAD_HANDSHAKE', 'not a BitTorrent handshake');
  }
  const reserved = buf.slice(20, 28);
  return {
    reserved,
    features: decodeReserved(reserved),
    infoHash: buf.slice(28, 48),
    peerId: buf.slice(48, 68),
  };
}

/** Our Azureus-style client prefix: `-PD0100-` = peerdrop 0.1.0.0. */
export const PEER_ID_PREFIX = '-PD0100-';

const PEER_ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A fresh peer id: the prefix and 12 random URL-safe characters. */
export function generatePeerId(random: Random, prefix = PEER_ID_PREFIX): Uint8Array {
  const out = new Uint8Array(20);
  for (let i = 0; i < prefix.length && i < 20; i++) out[i] = prefix.charCodeAt(i) & 0xff;
  for (let i = prefix.length; i < 20; i++) {
    out[i] = PEER_ID_ALPHABET.charCodeAt(Math.floor(random.next() * PEER_ID_ALPHABET.length));
  }
  return out;
}

/** Azureus-style two-letter codes (`-XXvvvv-`) we name. */
const AZUREUS_CLIENTS: Readonly<Record<string, string>> = {
  TR: 'Transmission',
  LT: 'libtorrent',
  lt: 'libTorrent (rtorrent)',
  qB: 'qBittorrent',
  DE: 'Deluge',
  PD: 'peerdrop',
  UT: 'µTorrent',
  UM: 'µTorrent Mac',
  AZ: 'Vuze',
  BI: 'BiglyBT',
  KT: 'KTorrent',
  WW: 'WebTorrent',
  WD: 'WebTorrent Desktop',
  BT: 'BitTorrent',
  lr: 'LibreTorrent',
  FD: 'Free Download Manager',
  TIX: 'Tixati',
};

function printable(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  return s;
}

/**
 * A display name for a peer id, e.g. `Transmission 4.0.5`, `aria2 1.37.0`, or the printable
 * prefix when unknown. For display only: peer ids are trivially forged.
 */
export function clientName(peerId: Uint8Array): string {
  const text = printable(peerId);
  const az = /^-([A-Za-z]{2})([0-9A-Za-z]{4})-/.exec(text);
  if (az) {
    const code = az[1]!;
    const ver = az[2]!;
    const name = AZUREUS_CLIENTS[code];
    if (name === undefined) return `unknown (${az[0]})`;
    return `${name} ${azureusVersion(ver)}`;
  }
  // aria2: "A2-1-37-0-" followed by random bytes.
  const a2 = /^A2-(\d+)-(\d+)-(\d+)-/.exec(text);
  if (a2) return `aria2 ${a2[1]}.${a2[2]}.${a2[3]}`;
  if (text.startsWith('-TIX')) return 'Tixati';
  return `unknown (${text.slice(0, 8)})`;
}

/** `4050` → `4.0.5`: major, minor, patch as base-36 digits; the 4th char is a build tag (Transmission: Z dev, B beta). */
function azureusVersion(ver: string): string {
  const digit = (c: string | undefined): string => {
    if (c === undefined) return '0';
    const n = Number.parseInt(c, 36);
    return Number.isNaN(n) ? c : String(n);
  };
  return `${digit(ver[0])}.${digit(ver[1])}.${digit(ver[2])}`;
}
