/**
 * BEP 11 `ut_pex`: peers added and dropped since the last message, IPv4 and IPv6 compact.
 * Lists are bounded: parsing keeps at most {@link MAX_PEX_PEERS_ACCEPTED} entries per list
 * (the excess is ignored, not an error: BEP 11 allows the first message to exceed 50).
 */
import { type BDict, decode, encode, isDict } from '../bencode/index.js';
import { type AddressFamily, decodeCompactPeers, encodeCompactPeers, type PeerAddress } from '../util/ip.js';
import { WireError } from './errors.js';
import { EXTENSION_DECODE_LIMITS, MAX_PEX_PEERS_ACCEPTED, MAX_PEX_PEERS_PER_MESSAGE } from './limits.js';

/** BEP 11 `added.f` flags. */
export const PexFlags = {
  PrefersEncryption: 0x01,
  IsSeed: 0x02,
  SupportsUtp: 0x04,
  SupportsHolepunch: 0x08,
  IsReachable: 0x10,
} as const;

export interface PexPeer extends PeerAddress {
  /** `added.f` / `added6.f` bits (0 when absent). */
  readonly flags: number;
}

export interface PexMessage {
  readonly added: readonly PexPeer[];
  readonly dropped: readonly PeerAddress[];
}

function bytesOf(d: BDict, key: string): Uint8Array {
  const v = d.get(key);
  return v instanceof Uint8Array ? v : new Uint8Array(0);
}

/** Decode a ut_pex payload; `WIRE_BAD_PEX` if it is not a bencoded dictionary. Port-0 entries are dropped. */
export function decodePexMessage(payload: Uint8Array): PexMessage {
  let d: unknown;
  try {
    d = decode(payload, EXTENSION_DECODE_LIMITS);
  } catch (err) {
    throw new WireError('WIRE_BAD_PEX', 'ut_pex message is not valid bencode', { cause: err });
  }
  if (!isDict(d as BDict)) throw new WireError('WIRE_BAD_PEX', 'ut_pex message is not a dictionary');
  const dict = d as BDict;
  const added = [
    ...decodeAddedWithFlags(bytesOf(dict, 'added'), bytesOf(dict, 'added.f'), 4),
    ...decodeAddedWithFlags(bytesOf(dict, 'added6'), bytesOf(dict, 'added6.f'), 6),
  ];
  const dropped = [
    ...decodeCompactPeers(bytesOf(dict, 'dropped'), 4, MAX_PEX_PEERS_ACCEPTED),
    ...decodeCompactPeers(bytesOf(dict, 'dropped6'), 6, MAX_PEX_PEERS_ACCEPTED),
  ];
  return { added, dropped };
}

function decodeAddedWithFlags(compact: Uint8Array, flags: Uint8Array, family: AddressFamily): PexPeer[] {
  const stride = family === 4 ? 6 : 18;
  const out: PexPeer[] = [];
  const count = Math.min(Math.floor(compact.length / stride), MAX_PEX_PEERS_ACCEPTED);
  for (let i = 0; i < count; i++) {
    // Decoded one entry at a time so a dropped port-0 entry cannot shift the flags.
    const [peer] = decodeCompactPeers(compact.subarray(i * stride, (i + 1) * stride), family, 1);
    if (peer) out.push({ host: peer.host, port: peer.port, flags: flags[i] ?? 0 });
  }
  return out;
}

/**
 * Encode a ut_pex payload. BEP 11: at most 50 added and 50 dropped contacts except in the
 * initial message; extra entries are left out (send them in a later message).
 */
export function encodePexMessage(msg: PexMessage, options: { isInitial?: boolean } = {}): Uint8Array {
  const cap = options.isInitial ? MAX_PEX_PEERS_ACCEPTED : MAX_PEX_PEERS_PER_MESSAGE;
  const added = msg.added.slice(0, cap);
  const dropped = msg.dropped.slice(0, cap);
  const family = (p: PeerAddress): AddressFamily => (p.host.includes(':') ? 6 : 4);
  const added4 = added.filter((p) => family(p) === 4);
  const added6 = added.filter((p) => family(p) === 6);
  const out: Record<string, Uint8Array> = {
    added: encodeCompactPeers(added4, 4),
    'added.f': Uint8Array.from(added4, (p) => p.flags & 0xff),
    dropped: encodeCompactPeers(
      dropped.filter((p) => family(p) === 4),
      4,
    ),
  };
  if (added6.length > 0) {
    out['added6'] = encodeCompactPeers(added6, 6);
    out['added6.f'] = Uint8Array.from(added6, (p) => p.flags & 0xff);
  }
  const dropped6 = dropped.filter((p) => family(p) === 6);
  if (dropped6.length > 0) out['dropped6'] = encodeCompactPeers(dropped6, 6);
  return encode(out);
}
