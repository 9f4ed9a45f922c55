/**
 * Control messages on the encrypted channel (JSON in `Control` frames): the offer, the
 * receiver's answer, hints to other receivers, and "complete". Everything decoded here comes
 * from the peer, so every field is checked, and names go through the torrent safe-path rules
 * before anyone sees them.
 */
import { checkPath } from '../metainfo/safe-path.js';
import { PeerdropError } from '../util/errors.js';
import { parseHostPort } from '../util/ip.js';

/** Files listed in an offer (the rest are counted; the info dictionary has them all). */
export const MAX_OFFER_LISTED_FILES = 200;
export const MAX_OFFER_FILES = 1_000_000;
export const MAX_CONTROL_BYTES = 64 * 1024;
const MAX_HINTS = 32;

export interface OfferFile {
  /** Components below the torrent's folder (a single file: `[name]`). */
  readonly path: readonly string[];
  readonly lengthBytes: number;
}

/** What the sender offers: shown to the receiver before anything is written. */
export interface Offer {
  /** The torrent's name: the file or the top folder. */
  readonly name: string;
  readonly isSingleFile: boolean;
  readonly fileCount: number;
  readonly totalBytes: number;
  /** Hex v1 info-hash: the info dictionary fetched later must hash to it. */
  readonly infoHash: string;
  /** The first `MAX_OFFER_LISTED_FILES` files, in torrent order. */
  readonly files: readonly OfferFile[];
}

export type ControlMessage =
  | { readonly t: 'offer'; readonly offer: Offer }
  /** Accepted: `port` is where this receiver accepts other receivers (`--multi`), 0 for none. */
  | { readonly t: 'accept'; readonly port: number }
  | { readonly t: 'decline' }
  /** Other receivers of the same offer (`host:port`), to swarm with. */
  | { readonly t: 'peers'; readonly peers: readonly string[] }
  /** The receiver has every piece, verified. */
  | { readonly t: 'complete' };

export class ControlError extends PeerdropError {
  constructor(message: string) {
    super('HANDOFF_BAD_CONTROL', message);
  }
}

export function encodeControl(message: ControlMessage): Uint8Array {
  const bytes = Buffer.from(JSON.stringify(message));
  if (bytes.length > MAX_CONTROL_BYTES) throw new ControlError('control message too large');
  return bytes;
}

const isCount = (n: unknown, max: number): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= max;

/** Decode and check a control message; throws `HANDOFF_BAD_CONTROL` with the reason. */
export function decodeControl(bytes: Uint8Array): ControlMessage {
  if (bytes.length > MAX_CONTROL_BYTES) throw new ControlError('control message too large');
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new ControlError('control message is not UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ControlError('control message is not an object');
  const m = value as Record<string, unknown>;
  switch (m.t) {
    case 'offer':
      return { t: 'offer', offer: checkOffer(m.offer) };
    case 'accept':
      if (!isCount(m.port, 65535)) throw new ControlError('accept: bad port');
      return { t: 'accept', port: m.port };
    case 'decline':
      return { t: 'decline' };
    case 'complete':
      return { t: 'complete' };
    case 'peers': {
      const peers = m.peers;
      if (!Array.isArray(peers) || peers.length > MAX_HINTS)
        throw new ControlError('peers: not a short list');
      for (const p of peers)
        if (typeof p !== 'string' || !parseHostPort(p)) throw new ControlError('peers: not host:port');
      return { t: 'peers', peers: peers as string[] };
    }
    default:
      throw new ControlError('unknown control message');
  }
}

/** The offer's fields, each checked; names through the safe-path rules (traversal refused). */
export function checkOffer(value: unknown): Offer {
  if (typeof value !== 'object' || value === null) throw new ControlError('offer: not an object');
  const o = value as Record<string, unknown>;
  if (typeof o.name !== 'string') throw new ControlError('offer: no name');
  const nameProblem = checkPath([o.name]);
  if (nameProblem) throw new ControlError(`offer: unsafe name (${nameProblem.reason})`);
  if (typeof o.isSingleFile !== 'boolean') throw new ControlError('offer: bad isSingleFile');
  if (!isCount(o.fileCount, MAX_OFFER_FILES) || o.fileCount === 0)
    throw new ControlError('offer: bad file count');
  if (!isCount(o.totalBytes, Number.MAX_SAFE_INTEGER)) throw new ControlError('offer: bad total size');
  if (typeof o.infoHash !== 'string' || !/^[0-9a-f]{40}$/.test(o.infoHash))
    throw new ControlError('offer: bad info-hash');
  if (!Array.isArray(o.files) || o.files.length > MAX_OFFER_LISTED_FILES || o.files.length > o.fileCount)
    throw new ControlError('offer: bad file list');
  if (o.isSingleFile && o.fileCount !== 1) throw new ControlError('offer: a single file with several files');
  let listed = 0;
  const files: OfferFile[] = o.files.map((f: unknown) => {
    if (typeof f !== 'object' || f === null) throw new ControlError('offer: bad file');
    const { path, lengthBytes } = f as Record<string, unknown>;
    if (!Array.isArray(path) || !path.every((c) => typeof c === 'string'))
      throw new ControlError('offer: bad file path');
    const problem = checkPath(path as string[]);
    if (problem)
      throw new ControlError(`offer: unsafe file name ${JSON.stringify(path.join('/'))} (${problem.reason})`);
    if (!isCount(lengthBytes, Number.MAX_SAFE_INTEGER)) throw new ControlError('offer: bad file size');
    listed += lengthBytes;
    return { path: path as string[], lengthBytes };
  });
  if (listed > o.totalBytes) throw new ControlError('offer: listed files exceed the total');
  return {
    name: o.name,
    isSingleFile: o.isSingleFile,
    fileCount: o.fileCount,
    totalBytes: o.totalBytes,
    infoHash: o.infoHash,
    files,
  };
}

/**
 * Whether the info dictionary's files are the offered ones (same name, count, total, and the
 * listed files in order): a sender cannot show one thing and deliver another. Null when they
 * match, else what differs.
 */
export function offerMismatch(
  offer: Offer,
  actual: { name: string; files: readonly OfferFile[] },
): string | null {
  if (actual.name !== offer.name) return 'the name differs from the offer';
  if (actual.files.length !== offer.fileCount) return 'the number of files differs from the offer';
  const total = actual.files.reduce((n, f) => n + f.lengthBytes, 0);
  if (total !== offer.totalBytes) return 'the total size differs from the offer';
  for (const [i, f] of offer.files.entries()) {
    const a = actual.files[i]!;
    if (a.path.join('/') !== f.path.join('/') || a.lengthBytes !== f.lengthBytes)
      return `file ${i} differs from the offer`;
  }
  return null;
}
