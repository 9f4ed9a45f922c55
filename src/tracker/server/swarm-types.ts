import type { Clock } from '../../util/clock.js';
import type { Random } from '../../util/random.js';
import type { AddressFamily } from '../protocol/compact.js';

/** The registry's public shapes: options, what an announce gives back, why one is refused. */

/** A peer as stored. The compact form (IP bytes + port, as a latin1 string) is built once. */
export interface SwarmPeer {
  /** The 20-byte peer id as a binary string (one char per byte). */
  readonly id: string;
  /** BEP 23 compact address: 6 (IPv4) or 18 (IPv6) bytes as a binary string. */
  compact: string;
  /** Announce key, or -1 when the peer sent none. */
  key: number;
  lastSeenMs: number;
  isSeeder: boolean;
  /** Counted once in `completed` (BEP 48 `downloaded`). */
  hasCompleted: boolean;
  /** Position in its half's `seeders` or `leechers`. */
  index: number;
}

export interface RegistryOptions {
  readonly clock: Clock;
  readonly random: Random;
  /** Re-announce interval sent to clients (default 1800 s). */
  readonly intervalSeconds?: number;
  /** `min interval` sent to clients (default interval / 2). */
  readonly minIntervalSeconds?: number;
  /** A peer that has not announced for this long is gone (default 2 × interval + 60 s). */
  readonly peerTimeoutMs?: number;
  /** Peers returned when the client gives no `numwant` (default 50). */
  readonly defaultNumWant?: number;
  /** Hard cap on `numwant` (default 200). */
  readonly maxNumWant?: number;
  /** Torrents tracked at most (default 100,000); beyond it new info-hashes are refused. */
  readonly maxTorrents?: number;
  readonly maxPeersPerTorrent?: number;
  readonly maxPeers?: number;
  /** Only these info-hashes (20 bytes each) are tracked; null/undefined = any. */
  readonly allowList?: Iterable<Uint8Array> | null;
  /** Private mode: the accepted passkeys; null/undefined = public tracker. */
  readonly passkeys?: Iterable<string> | null;
}

/** Where a request came from: the transport's view of the remote address. */
export interface AnnounceSource {
  /** A normalized IP literal (IPv4-mapped IPv6 already turned into IPv4). */
  readonly host: string;
  readonly family: AddressFamily;
  /** Private mode: the passkey found in the URL (path or query, or BEP 41 URL data). */
  readonly passkey?: string;
}

/** Why an announce or scrape was refused; also the metric label. */
export type RejectReason =
  | 'bad-request'
  | 'not-allowed'
  | 'unknown-passkey'
  | 'key-mismatch'
  | 'rate-limited'
  | 'bad-connection-id'
  | 'full-scrape'
  | 'torrent-limit';

export const REJECT_MESSAGES: Readonly<Record<RejectReason, string>> = {
  'bad-request': 'malformed request',
  'not-allowed': 'torrent is not on this tracker',
  'unknown-passkey': 'unknown passkey',
  'key-mismatch': 'peer id is registered from another address with another key',
  'rate-limited': 'too many requests, slow down',
  'bad-connection-id': 'invalid or expired connection id',
  'full-scrape': 'full scrape is not supported; name the info_hash values',
  'torrent-limit': 'tracker is full: it tracks as many torrents as it may; try again later',
};

export interface AnnounceResult {
  readonly ok: true;
  readonly intervalSeconds: number;
  readonly minIntervalSeconds: number;
  /** Seeders (both families). */
  readonly complete: number;
  /** Leechers (both families). */
  readonly incomplete: number;
  /** Peers of the requester's family only; never the requester; no seeders for a seeder. */
  readonly peers: readonly SwarmPeer[];
  /** The same peers' compact addresses back to back (6 or 18 bytes each), ready for the wire. */
  readonly compactPeers: Uint8Array;
  readonly family: AddressFamily;
}

export interface AnnounceRejection {
  readonly ok: false;
  readonly reason: RejectReason;
  readonly message: string;
}

export interface SwarmTotals {
  readonly torrents: number;
  readonly peers: number;
  readonly seeders: number;
  readonly leechers: number;
}
