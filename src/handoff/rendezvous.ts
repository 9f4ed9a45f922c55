/**
 * Where a receiver finds the sender: pure message formats for the LAN announce and the DHT
 * item, and the DHT item's location.
 *
 * Public by design: everything here is derived from the nameplate (the code's number) and a
 * time window, never from the words. A location derived from the whole code would let anyone
 * who sees it (every DHT node storing it, or a reader enumerating 2^16 targets) find the words
 * offline and then win the PAKE; the words therefore reach the PAKE only. The content is just
 * connection hints; a forged or overwritten item (anyone can compute the key) leads to a failed
 * PAKE, a clear error, never to data.
 */
import { createHash } from 'node:crypto';
import { type BDict, type BValue, decode, encode } from '../bencode/index.js';
import { type ItemKeyPair, itemKeyPairFromSeed } from '../dht/items.js';
import { type PeerAddress, parseHostPort } from '../util/ip.js';

/** The DHT location changes every 5 minutes; a receiver also looks one window back. */
export const DHT_WINDOW_MS = 5 * 60_000;
const MAX_HINTS = 16;

export function dhtWindow(nowMs: number): number {
  return Math.floor(nowMs / DHT_WINDOW_MS);
}

/** The signing key of a nameplate's item in a window (anyone can derive it: see above). */
export function dhtItemKey(nameplate: number, window: number): ItemKeyPair {
  const seed = createHash('sha256').update(`peerdrop-handoff-dht/1|${nameplate}|${window}`).digest();
  return itemKeyPairFromSeed(new Uint8Array(seed));
}

export function formatHint(a: PeerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** The item's value: `{h: [host:port, …], v: 1}` bencoded (BEP 44 caps it at 1000 bytes). */
export function encodeDhtHints(hints: readonly PeerAddress[]): Uint8Array {
  const list = hints.slice(0, MAX_HINTS).map((h) => Buffer.from(formatHint(h)));
  const value: BDict = new Map<string, BValue>([
    ['h', list],
    ['v', 1],
  ]);
  let bytes = encode(value);
  while (bytes.length > 1000 && list.length > 1) {
    list.pop();
    bytes = encode(value);
  }
  return bytes;
}

/** Hints from an item's value; anything malformed is skipped (the item is public and writable). */
export function decodeDhtHints(v: Uint8Array): PeerAddress[] {
  let value: unknown;
  try {
    value = decode(v);
  } catch {
    return [];
  }
  if (!(value instanceof Map)) return [];
  const list = value.get('h');
  if (!Array.isArray(list)) return [];
  const out: PeerAddress[] = [];
  for (const item of list.slice(0, MAX_HINTS)) {
    if (!(item instanceof Uint8Array)) continue;
    const a = parseHostPort(Buffer.from(item).toString('latin1'));
    if (a && a.port > 0) out.push(a);
  }
  return out;
}

const ANNOUNCE = 'PEERDROP-HANDOFF/1 ANNOUNCE';
const QUERY = 'PEERDROP-HANDOFF/1 QUERY';

export type LanMessage =
  | { readonly kind: 'announce'; readonly nameplate: number; readonly port: number }
  | { readonly kind: 'query'; readonly nameplate: number };

export function encodeLanMessage(m: LanMessage): Uint8Array {
  const lines =
    m.kind === 'announce'
      ? [ANNOUNCE, `nameplate: ${m.nameplate}`, `port: ${m.port}`]
      : [QUERY, `nameplate: ${m.nameplate}`];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** A datagram from the group; null for anything else (other programs share the group). */
export function decodeLanMessage(bytes: Uint8Array): LanMessage | null {
  if (bytes.length > 256) return null;
  const lines = Buffer.from(bytes).toString('latin1').split('\r\n');
  const field = (name: string): number | null => {
    const line = lines.find((l) => l.startsWith(`${name}: `));
    if (!line) return null;
    const text = line.slice(name.length + 2);
    return /^\d{1,5}$/.test(text) ? Number(text) : null;
  };
  const nameplate = field('nameplate');
  if (nameplate === null || nameplate < 1) return null;
  if (lines[0] === QUERY) return { kind: 'query', nameplate };
  if (lines[0] !== ANNOUNCE) return null;
  const port = field('port');
  if (port === null || port < 1 || port > 65535) return null;
  return { kind: 'announce', nameplate, port };
}
