/**
 * What a DHT node keeps for others (BEP 5): the peers announced to it per info-hash, and the
 * secret its `get_peers`/`get` tokens are made from. Both bounded; both on injected time.
 */
import { createHash } from 'node:crypto';
import { bytesEqual, toHex } from '../util/bytes.js';
import type { Clock } from '../util/clock.js';
import type { PeerAddress } from '../util/ip.js';
import { ipBytes } from './ip-cache.js';

/** BEP 5: tokens up to ten minutes old are accepted; the secret rotates every five. */
export const TOKEN_ROTATE_MS = 5 * 60_000;
const TOKEN_BYTES = 8;

/**
 * Write tokens: SHA-1 of a secret and the requester's IP, so only a host that received our
 * answer at that address can announce or put through us. The previous secret stays valid for
 * one rotation, so a token is good for 5 to 10 minutes.
 */
export class TokenSecrets {
  private current: Uint8Array;
  private previous: Uint8Array;

  constructor(private readonly randomBytes: (n: number) => Uint8Array) {
    this.current = randomBytes(16);
    this.previous = randomBytes(16);
  }

  rotate(): void {
    this.previous = this.current;
    this.current = this.randomBytes(16);
  }

  issue(host: string): Uint8Array {
    return tokenFor(this.current, host);
  }

  isValid(host: string, token: Uint8Array): boolean {
    return (
      bytesEqual(token, tokenFor(this.current, host)) || bytesEqual(token, tokenFor(this.previous, host))
    );
  }
}

function tokenFor(secret: Uint8Array, host: string): Uint8Array {
  const ip = ipBytes(host) ?? new TextEncoder().encode(host);
  return new Uint8Array(createHash('sha1').update(secret).update(ip).digest().subarray(0, TOKEN_BYTES));
}

export interface PeerStoreLimits {
  /** Info-hashes kept; a new one beyond this replaces the one announced least recently. */
  readonly maxTorrents: number;
  /** Peers per info-hash; a new one beyond this replaces the oldest. */
  readonly maxPeersPerTorrent: number;
  /** BEP 5 has no figure; libtorrent keeps announces 30 minutes (clients re-announce). */
  readonly peerTtlMs: number;
}

export const DEFAULT_PEER_STORE_LIMITS: PeerStoreLimits = {
  maxTorrents: 2000,
  maxPeersPerTorrent: 200,
  peerTtlMs: 30 * 60_000,
};

interface StoredPeer {
  readonly address: PeerAddress;
  readonly isSeed: boolean;
  expiresMs: number;
}

interface Swarm {
  readonly infoHash: Uint8Array;
  /** By `host|port`, in announce order (Map keeps it), so the oldest is first. */
  readonly peers: Map<string, StoredPeer>;
}

export class PeerStore {
  /** By info-hash hex, least recently announced first. */
  private readonly swarms = new Map<string, Swarm>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: PeerStoreLimits = DEFAULT_PEER_STORE_LIMITS,
  ) {}

  get torrentCount(): number {
    return this.swarms.size;
  }

  announce(infoHash: Uint8Array, address: PeerAddress, isSeed: boolean): void {
    const key = toHex(infoHash);
    let swarm = this.swarms.get(key);
    if (swarm) {
      this.swarms.delete(key); // re-insert: most recently announced last
    } else {
      if (this.swarms.size >= this.limits.maxTorrents) {
        const oldest = this.swarms.keys().next().value;
        if (oldest !== undefined) this.swarms.delete(oldest);
      }
      swarm = { infoHash: infoHash.slice(), peers: new Map() };
    }
    this.swarms.set(key, swarm);
    const peerKey = `${address.host}|${address.port}`;
    swarm.peers.delete(peerKey);
    if (swarm.peers.size >= this.limits.maxPeersPerTorrent) {
      const oldest = swarm.peers.keys().next().value;
      if (oldest !== undefined) swarm.peers.delete(oldest);
    }
    swarm.peers.set(peerKey, { address, isSeed, expiresMs: this.clock.now() + this.limits.peerTtlMs });
  }

  /** Up to `max` live peers of one family, random order (`pick` draws [0, 1)). */
  peers(infoHash: Uint8Array, family: 4 | 6, max: number, pick: () => number, noSeed = false): PeerAddress[] {
    const swarm = this.swarms.get(toHex(infoHash));
    if (!swarm) return [];
    const now = this.clock.now();
    const out: PeerAddress[] = [];
    for (const p of swarm.peers.values()) {
      if (p.expiresMs <= now || (noSeed && p.isSeed)) continue;
      if (p.address.host.includes(':') !== (family === 6)) continue;
      out.push(p.address);
    }
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(pick() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out.slice(0, max);
  }

  /** BEP 51: up to `max` info-hashes we hold peers for, random order. */
  sample(max: number, pick: () => number): Uint8Array[] {
    const all = [...this.swarms.values()].map((s) => s.infoHash);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(pick() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all.slice(0, max);
  }

  /** Drop expired peers and empty swarms. */
  expire(): void {
    const now = this.clock.now();
    for (const [key, swarm] of this.swarms) {
      for (const [pk, p] of swarm.peers) if (p.expiresMs <= now) swarm.peers.delete(pk);
      if (swarm.peers.size === 0) this.swarms.delete(key);
    }
  }
}
