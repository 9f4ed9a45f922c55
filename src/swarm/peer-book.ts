import type { PeerAddress } from '../util/ip.js';
import type { Random } from '../util/random.js';

/** Where we learned of a peer. */
export type PeerOrigin = 'tracker' | 'dht' | 'pex' | 'lsd' | 'incoming' | 'manual' | 'listen';

export type { PeerAddress };

/** Why a host was banned, with what proves it. */
export interface BanEvidence {
  readonly reason: 'corrupt-data' | 'protocol-violation' | 'manual';
  readonly atMs: number;
  /** Pieces involved (e.g. that failed the hash check with this peer's blocks). */
  readonly pieces: readonly number[];
  /** Free text, e.g. the block offsets that differed. */
  readonly detail?: string;
}

/** What the book knows about one `ip:port`. */
export interface PeerRecord {
  readonly key: string;
  readonly address: PeerAddress;
  readonly sources: Set<PeerOrigin>;
  state: 'idle' | 'connecting' | 'connected';
  /** Consecutive failed connection attempts (reset on success). */
  failures: number;
  /** Pieces that failed their hash check with data from this peer. */
  corruptPieces: number;
  /** Bytes of verified data received from the peer. */
  usefulBytes: number;
  nextAttemptMs: number;
  /** For an incoming peer: the key of its listen address (BEP 10 `p`), kept `connected` meanwhile. */
  listenAlias?: string;
  /** This record is another peer's listen address while that peer is connected (holds no slot). */
  isAlias?: boolean;
}

/** A connection counter shared by every torrent (the global limit). */
export class ConnectionBudget {
  private used = 0;
  constructor(readonly max: number) {}
  get inUse(): number {
    return this.used;
  }
  get free(): number {
    return Math.max(0, this.max - this.used);
  }
  tryAcquire(): boolean {
    if (this.used >= this.max) return false;
    this.used++;
    return true;
  }
  release(): void {
    if (this.used > 0) this.used--;
  }
}

export interface PeerBookOptions {
  readonly random: Random;
  /** Connections (connecting + connected) allowed for this torrent. */
  readonly maxConnections: number;
  /** Shared across torrents. */
  readonly global: ConnectionBudget;
  /** Our own listen addresses: never dialled (trackers and PEX echo us back). */
  readonly selfAddresses?: readonly PeerAddress[];
  /** First retry delay; doubles per failure up to `maxBackoffMs`, with ±50 % jitter. */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Cap on remembered addresses (bounded memory against PEX/tracker floods). */
  readonly maxKnown?: number;
}

/** `ip:port` with IPv6 bracketed and IPv4-mapped IPv6 unwrapped, so one peer has one key. */
export function peerKey(a: PeerAddress): string {
  let host = a.host.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.startsWith('::ffff:') && host.includes('.')) host = host.slice(7);
  return host.includes(':') ? `[${host}]:${a.port}` : `${host}:${a.port}`;
}

function hostOf(key: string): string {
  return key.slice(0, key.lastIndexOf(':'));
}

/**
 * What a ban covers: the IP, so a banned peer cannot come back on another port — except on
 * loopback, where every local client shares one address (tests, several clients on one
 * machine) and banning 127.0.0.1 would ban the honest ones too: there the `ip:port` is banned.
 */
function banKeyOf(key: string): string {
  const host = hostOf(key).replace(/^\[|\]$/g, '');
  return host === '::1' || host.startsWith('127.') ? key : hostOf(key);
}

/**
 * Known peer addresses of one torrent, from every source, deduplicated by `ip:port`; which to
 * dial next; connection limits (per torrent and a shared global budget); reconnect backoff;
 * scores; and bans by IP with evidence. Pure: time comes in as `nowMs`.
 */
export class PeerBook {
  private readonly peers = new Map<string, PeerRecord>();
  private readonly bans = new Map<string, BanEvidence>();
  private readonly self = new Set<string>();
  private active = 0;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxKnown: number;

  constructor(private readonly opts: PeerBookOptions) {
    for (const a of opts.selfAddresses ?? []) this.self.add(peerKey(a));
    this.baseBackoffMs = opts.baseBackoffMs ?? 10_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30 * 60_000;
    this.maxKnown = opts.maxKnown ?? 5_000;
  }

  get size(): number {
    return this.peers.size;
  }

  /** Connections of this torrent that are connecting or connected. */
  get activeConnections(): number {
    return this.active;
  }

  /** Learn an address. Returns false for self, banned, invalid, or (when full) dropped ones. */
  add(address: PeerAddress, source: PeerOrigin, nowMs: number): boolean {
    if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535) return false;
    const key = peerKey(address);
    if (this.self.has(key) || this.isBanned(address)) return false;
    const known = this.peers.get(key);
    if (known) {
      known.sources.add(source);
      return true;
    }
    if (this.peers.size >= this.maxKnown && !this.evictOne()) return false;
    this.peers.set(key, {
      key,
      address: { host: hostOf(key).replace(/^\[|\]$/g, ''), port: address.port },
      sources: new Set([source]),
      state: 'idle',
      failures: 0,
      corruptPieces: 0,
      usefulBytes: 0,
      nextAttemptMs: nowMs,
    });
    return true;
  }

  get(address: PeerAddress): PeerRecord | undefined {
    return this.peers.get(peerKey(address));
  }

  /**
   * Up to `count` addresses to dial now, best first (useful before, more sources, fewer
   * failures). They become `connecting` and hold a per-torrent and a global slot until
   * `onConnectFailed` or `onDisconnected`.
   */
  nextToConnect(nowMs: number, count: number): PeerAddress[] {
    const room = Math.min(count, this.opts.maxConnections - this.active);
    if (room <= 0) return [];
    // An address known only from an incoming connection is the peer's ephemeral port: never dialled.
    const ready = [...this.peers.values()].filter(
      (p) => p.state === 'idle' && p.nextAttemptMs <= nowMs && !isEphemeralOnly(p),
    );
    ready.sort((a, b) => score(b) - score(a) || a.nextAttemptMs - b.nextAttemptMs);
    const out: PeerAddress[] = [];
    for (const p of ready) {
      if (out.length >= room || !this.opts.global.tryAcquire()) break;
      p.state = 'connecting';
      this.active++;
      out.push(p.address);
    }
    return out;
  }

  /** An incoming connection: accepted only within limits and if not banned or ourselves. */
  acceptIncoming(address: PeerAddress, nowMs: number): boolean {
    const key = peerKey(address);
    if (this.self.has(key) || this.isBanned(address)) return false;
    const known = this.peers.get(key);
    if (known && known.state !== 'idle') return false;
    if (this.active >= this.opts.maxConnections || !this.opts.global.tryAcquire()) return false;
    if (!known && !this.add(address, 'incoming', nowMs)) {
      this.opts.global.release();
      return false;
    }
    const rec = this.peers.get(key);
    if (!rec) return false;
    rec.sources.add('incoming');
    rec.state = 'connected';
    this.active++;
    return true;
  }

  onConnected(address: PeerAddress): void {
    const p = this.peers.get(peerKey(address));
    if (p?.state !== 'connecting') return;
    p.state = 'connected';
    p.failures = 0;
  }

  /** Dial failed or the handshake was refused: retry later, exponentially later. */
  onConnectFailed(address: PeerAddress, nowMs: number): void {
    const p = this.peers.get(peerKey(address));
    if (!p || p.state === 'idle') return;
    p.failures++;
    this.release(p, nowMs + this.backoffMs(p.failures));
  }

  /** A connection ended; the peer may be dialled again after the base delay. */
  onDisconnected(address: PeerAddress, nowMs: number): void {
    const p = this.peers.get(peerKey(address));
    if (!p || p.state === 'idle' || p.isAlias) return;
    this.release(p, nowMs + this.backoffMs(p.failures + 1));
    const alias = p.listenAlias === undefined ? undefined : this.peers.get(p.listenAlias);
    p.listenAlias = undefined;
    if (alias?.isAlias) {
      // The peer left: its listen address is the way back to it (soon, not after a long backoff).
      alias.isAlias = false;
      alias.state = 'idle';
      alias.nextAttemptMs = nowMs + this.backoffMs(1);
    }
    if (isEphemeralOnly(p)) this.peers.delete(p.key);
  }

  /**
   * An incoming peer told us where it listens (BEP 10 `p`): that address is the same peer, so
   * it is marked connected (no second connection to it from PEX or trackers) until the peer
   * leaves, and then dialled instead of the ephemeral port it came from.
   */
  linkListenAddress(incoming: PeerAddress, listenPort: number, nowMs: number): void {
    const rec = this.peers.get(peerKey(incoming));
    if (rec?.state !== 'connected' || rec.listenAlias !== undefined) return;
    const listen = { host: incoming.host, port: listenPort };
    const key = peerKey(listen);
    if (key === rec.key || !this.add(listen, 'listen', nowMs)) return;
    const alias = this.peers.get(key);
    if (alias?.state !== 'idle') return; // we are dialling or connected to it already
    alias.state = 'connected';
    alias.isAlias = true;
    rec.listenAlias = key;
  }

  /** Credit verified bytes to a peer (raises its score). */
  recordUseful(address: PeerAddress, bytes: number): void {
    const p = this.peers.get(peerKey(address));
    if (p) p.usefulBytes += bytes;
  }

  /** A piece with data from this peer failed its hash check. */
  recordCorrupt(address: PeerAddress): void {
    const p = this.peers.get(peerKey(address));
    if (p) p.corruptPieces++;
  }

  /** Ban the peer's IP with evidence; it is forgotten and never returned again. */
  ban(address: PeerAddress, evidence: BanEvidence): void {
    const key = peerKey(address);
    this.bans.set(banKeyOf(key), evidence);
    for (const [k, p] of this.peers) {
      if (banKeyOf(k) !== banKeyOf(key)) continue;
      if (p.state !== 'idle') this.release(p, Number.POSITIVE_INFINITY);
      this.peers.delete(k);
    }
  }

  isBanned(address: PeerAddress): boolean {
    return this.bans.has(banKeyOf(peerKey(address)));
  }

  /** The evidence a ban was made on (for the UI and logs). */
  banEvidence(address: PeerAddress): BanEvidence | undefined {
    return this.bans.get(banKeyOf(peerKey(address)));
  }

  private release(p: PeerRecord, nextAttemptMs: number): void {
    p.state = 'idle';
    p.nextAttemptMs = nextAttemptMs;
    if (p.isAlias) {
      p.isAlias = false; // an alias holds no slot
      return;
    }
    this.active--;
    this.opts.global.release();
  }

  private backoffMs(failures: number): number {
    const exp = Math.min(
      this.maxBackoffMs,
      this.baseBackoffMs * 2 ** Math.min(30, Math.max(0, failures - 1)),
    );
    return Math.round(exp * (0.5 + this.opts.random.next()));
  }

  /** Drop the idle peer with the most failures, if any has failed. */
  private evictOne(): boolean {
    let worst: PeerRecord | undefined;
    for (const p of this.peers.values()) {
      if (p.state === 'idle' && p.failures > 0 && (!worst || p.failures > worst.failures)) worst = p;
    }
    if (worst) this.peers.delete(worst.key);
    return worst !== undefined;
  }
}

function isEphemeralOnly(p: PeerRecord): boolean {
  return p.sources.size === 1 && p.sources.has('incoming');
}

function score(p: PeerRecord): number {
  return (p.usefulBytes > 0 ? 4 : 0) + p.sources.size - p.failures - 4 * p.corruptPieces;
}
