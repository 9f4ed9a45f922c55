import type { PeerAddress } from './compact.js';

/**
 * The announce and scrape vocabulary shared by both transports (HTTP and UDP) and both
 * directions (client builds, server parses). One interface, not two versions.
 */

/** BEP 3 events; `none` is a regular re-announce (HTTP: no `event` param; UDP: 0). */
export type AnnounceEvent = 'none' | 'started' | 'completed' | 'stopped';

export interface AnnounceRequest {
  /** 20 bytes: the v1 info-hash, or for a v2-only torrent the truncated v2 hash (BEP 52). */
  readonly infoHash: Uint8Array;
  /** 20 bytes. */
  readonly peerId: Uint8Array;
  /** The TCP port we listen on (1..65535). */
  readonly port: number;
  readonly uploaded: number;
  readonly downloaded: number;
  readonly left: number;
  readonly event: AnnounceEvent;
  /** How many peers we want; undefined = tracker default (UDP: -1). */
  readonly numWant?: number;
  /** A random u32 that lets a tracker recognise us across IP changes. */
  readonly key?: number;
  /** HTTP only: ask for the dictionary model instead of compact (BEP 23: compact is default). */
  readonly compact?: boolean;
  /** HTTP only: BEP 23 `no_peer_id`. */
  readonly noPeerId?: boolean;
  /** Our addresses, if we want to tell the tracker (BEP 7 `ipv4=`, `ipv6=`; UDP `ip` field). */
  readonly ipv4?: string;
  readonly ipv6?: string;
  /** HTTP only: the `tracker id` echoed back from a previous response. */
  readonly trackerId?: Uint8Array;
}

export interface AnnounceResponse {
  readonly intervalSeconds: number;
  readonly minIntervalSeconds?: number;
  /** Seeders. */
  readonly complete?: number;
  /** Leechers. */
  readonly incomplete?: number;
  /** IPv4 and IPv6 peers together (HTTP `peers` + `peers6`, UDP 6- or 18-byte entries). */
  readonly peers: readonly PeerAddress[];
  readonly warning?: string;
  readonly trackerId?: Uint8Array;
}

export interface ScrapeStats {
  readonly infoHash: Uint8Array;
  /** Seeders. */
  readonly complete: number;
  /** Times completed (UDP: `completed`). */
  readonly downloaded: number;
  /** Leechers. */
  readonly incomplete: number;
}

/** Bounds for what we accept from a tracker. */
export const MAX_INTERVAL_SECONDS = 7 * 24 * 3600;
/** BEP 15 limits a UDP scrape to about 74 hashes; HTTP trackers have similar URL limits. */
export const MAX_SCRAPE_HASHES = 74;
