/**
 * BEP 14 local service discovery, sans-I/O: the BT-SEARCH codec and the announce/listen state.
 *
 * The core gets datagrams through `handleMessage(bytes, from)` and time through `now()`, and sends
 * through an injected `send(family, bytes)`; the adapter (lsd-service.ts) owns the multicast
 * sockets and the timer. What it guarantees:
 * - a datagram is parsed strictly (CRLF lines, known first line, bounded size, line and header
 *   counts, 40-hex info-hashes, one decimal port) before anything is believed;
 * - our own announces, looped back by the kernel or by another of our sockets, carry our random
 *   cookie and are ignored;
 * - each torrent is announced when it is added and then at most once a minute (every
 *   `announceIntervalMs`, 5 min by default); hearing a peer announce a torrent we share brings our
 *   next announce forward, but never closer than a minute to the previous one, so two peers that
 *   start minutes apart still find each other quickly and a flood cannot make us chatty;
 * - announces of torrents we do not (yet) have are remembered for a few minutes in a small table,
 *   so a torrent added just after a peer announced it meets that peer at once;
 * - each source address gets a bounded number of datagrams and reported peers per minute, and the
 *   table of sources is itself bounded.
 */
import { ipFamily } from '../util/ip.js';

/** The largest datagram we parse or send (one unfragmented Ethernet payload, with room to spare). */
export const LSD_MAX_BYTES = 1400;
/** Info-hash headers believed in one datagram (libtorrent sends one per datagram). */
export const LSD_MAX_INFOHASHES = 16;
const MAX_LINES = 24;
const MAX_LINE_BYTES = 200;
const MAX_COOKIE_CHARS = 64;
/** BEP 14: at most one announce per torrent per minute. */
export const LSD_MIN_INTERVAL_MS = 60_000;
export const LSD_DEFAULT_INTERVAL_MS = 5 * 60_000;
const SOURCE_WINDOW_MS = 60_000;
/** Announces of torrents we do not have are remembered this long, for a torrent added soon after. */
const RECENT_MS = 5 * 60_000;
const MAX_RECENT = 256;

export type LsdFamily = 'IPv4' | 'IPv6';

/** The Host header each family's announces carry (the group, as BEP 14 writes it). */
export const LSD_HOSTS: Readonly<Record<LsdFamily, string>> = {
  IPv4: '239.192.152.143:6771',
  IPv6: '[ff15::efc0:988f]:6771',
};

export interface LsdAnnounce {
  /** The announcer's BitTorrent listen port. */
  readonly port: number;
  /** Lowercase hex, deduplicated, in message order. */
  readonly infoHashes: readonly string[];
  readonly cookie: string | null;
  readonly host: string | null;
}

export type LsdParseError =
  | 'too-large'
  | 'not-ascii'
  | 'bad-line-ending'
  | 'bad-request-line'
  | 'too-many-lines'
  | 'line-too-long'
  | 'bad-header'
  | 'bad-port'
  | 'bad-infohash'
  | 'no-infohash'
  | 'too-many-infohashes'
  | 'bad-cookie'
  | 'trailing-data';

export type LsdParseResult = { ok: true; announce: LsdAnnounce } | { ok: false; error: LsdParseError };

const REQUEST_LINE = 'BT-SEARCH * HTTP/1.1';
const HEADER = /^([A-Za-z][A-Za-z0-9-]{0,31}):[ \t]*(.*?)[ \t]*$/;
const HEX40 = /^[0-9a-fA-F]{40}$/;
const PORT = /^[1-9][0-9]{0,4}$/;
const COOKIE = /^[\x21-\x7e]+$/;

/** Encode one announce; `cookie` lets us recognise our own datagrams. */
export function encodeLsdAnnounce(a: {
  family: LsdFamily;
  port: number;
  infoHashes: readonly string[];
  cookie: string;
}): Uint8Array {
  const lines = [REQUEST_LINE, `Host: ${LSD_HOSTS[a.family]}`, `Port: ${a.port}`];
  for (const ih of a.infoHashes) lines.push(`Infohash: ${ih.toLowerCase()}`);
  lines.push(`cookie: ${a.cookie}`);
  // BEP 14 ends the message with two empty lines, as libtorrent and Transmission send it.
  const text = `${lines.join('\r\n')}\r\n\r\n\r\n`;
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Parse a BT-SEARCH datagram strictly; nothing from it is used unless it all checks out. */
export function parseLsdAnnounce(bytes: Uint8Array): LsdParseResult {
  if (bytes.length > LSD_MAX_BYTES) return { ok: false, error: 'too-large' };
  let text = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b > 0x7e || (b < 0x20 && b !== 0x0d && b !== 0x0a && b !== 0x09))
      return { ok: false, error: 'not-ascii' };
    text += String.fromCharCode(b);
  }
  // Every LF must be part of a CRLF, and no CR may stand alone.
  if (/\r(?!\n)|(?<!\r)\n/.test(text)) return { ok: false, error: 'bad-line-ending' };
  const end = text.indexOf('\r\n\r\n');
  // No blank line: the header block was never closed (a truncated datagram).
  if (end === -1) return { ok: false, error: 'trailing-data' };
  // After the blank line only more blank lines (the BEP's second CRLF) may follow.
  if (!/^(\r\n)*$/.test(text.slice(end + 4))) return { ok: false, error: 'trailing-data' };
  const lines = text.slice(0, end).split('\r\n');
  if (lines[0] !== REQUEST_LINE) return { ok: false, error: 'bad-request-line' };
  if (lines.length > MAX_LINES) return { ok: false, error: 'too-many-lines' };
  let port: number | null = null;
  let cookie: string | null = null;
  let host: string | null = null;
  const infoHashes: string[] = [];
  let infoHashHeaders = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length > MAX_LINE_BYTES) return { ok: false, error: 'line-too-long' };
    const m = HEADER.exec(line);
    if (!m) return { ok: false, error: 'bad-header' };
    const name = m[1]!.toLowerCase();
    const value = m[2]!;
    if (name === 'port') {
      if (port !== null || !PORT.test(value) || Number(value) > 65_535)
        return { ok: false, error: 'bad-port' };
      port = Number(value);
    } else if (name === 'infohash') {
      if (!HEX40.test(value)) return { ok: false, error: 'bad-infohash' };
      if (++infoHashHeaders > LSD_MAX_INFOHASHES) return { ok: false, error: 'too-many-infohashes' };
      const ih = value.toLowerCase();
      if (!infoHashes.includes(ih)) infoHashes.push(ih);
    } else if (name === 'cookie') {
      if (cookie !== null || value.length > MAX_COOKIE_CHARS || !COOKIE.test(value))
        return { ok: false, error: 'bad-cookie' };
      cookie = value;
    } else if (name === 'host') {
      if (host !== null) return { ok: false, error: 'bad-header' };
      host = value;
    }
    // Other headers are allowed (HTTP-style extensibility) and ignored; their count is capped above.
  }
  if (port === null) return { ok: false, error: 'bad-port' };
  if (infoHashes.length === 0) return { ok: false, error: 'no-infohash' };
  return { ok: true, announce: { port, infoHashes, cookie, host } };
}

export interface LsdSource {
  readonly host: string;
  readonly port: number;
  readonly family: LsdFamily;
}

export interface LsdCoreOptions {
  now(): number;
  /** Our random cookie (hex, a few bytes), sent in every announce. */
  readonly cookie: string;
  /** The families we have a socket for; each announce goes out once per family. */
  readonly families: readonly LsdFamily[];
  send(family: LsdFamily, bytes: Uint8Array): void;
  /** A peer on the LAN has `infoHash` (lowercase hex) at `peer`. */
  onPeer(infoHash: string, peer: { host: string; port: number }): void;
  /** Between regular announces of one torrent (default 5 min, never under 1 min). */
  readonly announceIntervalMs?: number;
  /** Datagrams accepted from one source address per minute (default 32). */
  readonly maxPerSourcePerMinute?: number;
  /** Source addresses tracked at once; datagrams from new ones are dropped when full (default 256). */
  readonly maxSources?: number;
}

export interface LsdStats {
  received: number;
  accepted: number;
  ownIgnored: number;
  malformed: number;
  rateLimited: number;
  announcesSent: number;
  peersReported: number;
}

interface TorrentEntry {
  readonly port: () => number;
  lastAnnounceMs: number;
  nextAnnounceMs: number;
}

interface SourceWindow {
  startMs: number;
  count: number;
}

export class LsdCore {
  readonly stats: LsdStats = {
    received: 0,
    accepted: 0,
    ownIgnored: 0,
    malformed: 0,
    rateLimited: 0,
    announcesSent: 0,
    peersReported: 0,
  };
  private readonly torrents = new Map<string, TorrentEntry>();
  private readonly sources = new Map<string, SourceWindow>();
  /** `infoHash host port` → when heard; insertion order is age order. */
  private readonly recent = new Map<string, number>();
  private readonly intervalMs: number;
  private readonly perSource: number;
  private readonly maxSources: number;

  constructor(private readonly options: LsdCoreOptions) {
    this.intervalMs = Math.max(LSD_MIN_INTERVAL_MS, options.announceIntervalMs ?? LSD_DEFAULT_INTERVAL_MS);
    this.perSource = options.maxPerSourcePerMinute ?? 32;
    this.maxSources = options.maxSources ?? 256;
  }

  /** Start announcing `infoHash` (40 hex); the first announce goes out at the next `upkeep`. */
  add(infoHash: string, port: () => number): void {
    const key = infoHash.toLowerCase();
    if (!HEX40.test(key) || this.torrents.has(key)) return;
    const now = this.options.now();
    this.torrents.set(key, { port, lastAnnounceMs: Number.NEGATIVE_INFINITY, nextAnnounceMs: now });
    for (const [k, at] of this.recent) {
      if (now - at >= RECENT_MS || !k.startsWith(key)) continue;
      const [, host, p] = k.split(' ');
      this.recent.delete(k);
      this.stats.peersReported++;
      this.options.onPeer(key, { host: host!, port: Number(p) });
    }
  }

  remove(infoHash: string): void {
    this.torrents.delete(infoHash.toLowerCase());
  }

  get torrentCount(): number {
    return this.torrents.size;
  }

  handleMessage(bytes: Uint8Array, from: LsdSource): void {
    this.stats.received++;
    const now = this.options.now();
    if (!this.admit(from.host, now)) {
      this.stats.rateLimited++;
      return;
    }
    const parsed = parseLsdAnnounce(bytes);
    if (!parsed.ok) {
      this.stats.malformed++;
      return;
    }
    const { announce } = parsed;
    if (announce.cookie === this.options.cookie) {
      this.stats.ownIgnored++;
      return;
    }
    // The peer is where the datagram came from; a multicast or unspecified source is a forgery.
    const bare = from.host.replace(/%.*$/, '');
    if (!isUnicastHost(bare)) {
      this.stats.malformed++;
      return;
    }
    // A link-local IPv6 source keeps its zone (`fe80::1%eth0`): without it it cannot be dialled.
    const host = /^fe[89ab]/i.test(bare) ? from.host : bare;
    this.stats.accepted++;
    for (const ih of announce.infoHashes) {
      const entry = this.torrents.get(ih);
      if (entry === undefined) {
        this.remember(`${ih} ${host} ${announce.port}`, now);
        continue;
      }
      this.stats.peersReported++;
      this.options.onPeer(ih, { host, port: announce.port });
      // Answer with our own announce soon, within the once-a-minute budget.
      entry.nextAnnounceMs = Math.min(entry.nextAnnounceMs, entry.lastAnnounceMs + LSD_MIN_INTERVAL_MS);
    }
  }

  /** Send what is due; returns the delay until the next thing is due (ms), or null if nothing is. */
  upkeep(): number | null {
    const now = this.options.now();
    let next: number | null = null;
    for (const [ih, entry] of this.torrents) {
      if (entry.nextAnnounceMs <= now) {
        const port = entry.port();
        if (port > 0) {
          for (const family of this.options.families) {
            this.options.send(
              family,
              encodeLsdAnnounce({ family, port, infoHashes: [ih], cookie: this.options.cookie }),
            );
            this.stats.announcesSent++;
          }
          entry.lastAnnounceMs = now;
          entry.nextAnnounceMs = now + this.intervalMs;
        } else {
          // Not listening yet: try again shortly.
          entry.nextAnnounceMs = now + 1000;
        }
      }
      const wait = entry.nextAnnounceMs - now;
      next = next === null ? wait : Math.min(next, wait);
    }
    for (const [host, w] of this.sources) if (now - w.startMs >= SOURCE_WINDOW_MS) this.sources.delete(host);
    return next;
  }

  private remember(key: string, now: number): void {
    this.recent.delete(key);
    this.recent.set(key, now);
    // Oldest first: drop what expired, then the oldest while over the cap.
    for (const [k, at] of this.recent) {
      if (now - at < RECENT_MS && this.recent.size <= MAX_RECENT) break;
      this.recent.delete(k);
    }
  }

  private admit(host: string, now: number): boolean {
    let w = this.sources.get(host);
    if (w !== undefined && now - w.startMs >= SOURCE_WINDOW_MS) {
      w.startMs = now;
      w.count = 0;
    }
    if (w === undefined) {
      if (this.sources.size >= this.maxSources) {
        for (const [h, old] of this.sources)
          if (now - old.startMs >= SOURCE_WINDOW_MS) this.sources.delete(h);
        if (this.sources.size >= this.maxSources) return false;
      }
      w = { startMs: now, count: 0 };
      this.sources.set(host, w);
    }
    return ++w.count <= this.perSource;
  }
}

function isUnicastHost(host: string): boolean {
  const family = ipFamily(host);
  if (family === 4) {
    const first = Number(host.split('.')[0]);
    return host !== '0.0.0.0' && host !== '255.255.255.255' && !(first >= 224 && first <= 239);
  }
  if (family === 6) {
    const h = host.toLowerCase();
    return h !== '::' && !h.startsWith('ff');
  }
  return false;
}
