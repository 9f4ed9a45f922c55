import type { AddressFamily } from '../protocol/compact.js';
import { PeerList } from './peer-list.js';
import { type AnnounceRejection, REJECT_MESSAGES, type RejectReason, type SwarmPeer } from './swarm-types.js';

/** The registry's per-torrent records and the small pure helpers over them (see swarm-registry.ts). */

export interface SwarmHalf {
  readonly byId: Map<string, SwarmPeer>;
  readonly seeders: PeerList<SwarmPeer>;
  readonly leechers: PeerList<SwarmPeer>;
}

export interface Torrent {
  readonly id: string;
  /**
   * The only peer of a torrent that has never had two at once: no half, map or list exists
   * yet (a flood of random info-hashes makes only such torrents). Non-null ⇒ both halves null.
   */
  solo: SwarmPeer | null;
  /** Created with the first peer of that family once a second peer arrives. */
  v4: SwarmHalf | null;
  v6: SwarmHalf | null;
  /** Times completed (event=completed, once per peer). */
  completed: number;
  lastAnnounceMs: number;
}

export function newHalf(size: number): SwarmHalf {
  return { byId: new Map(), seeders: new PeerList(size), leechers: new PeerList(size) };
}

export function halfSize(h: SwarmHalf | null): number {
  return h === null ? 0 : h.byId.size;
}

export function seedersOf(t: Torrent): number {
  if (t.solo !== null) return t.solo.isSeeder ? 1 : 0;
  return (t.v4?.seeders.length ?? 0) + (t.v6?.seeders.length ?? 0);
}

export function leechersOf(t: Torrent): number {
  if (t.solo !== null) return t.solo.isSeeder ? 0 : 1;
  return (t.v4?.leechers.length ?? 0) + (t.v6?.leechers.length ?? 0);
}

export function familyOf(peer: SwarmPeer): AddressFamily {
  return peer.compact.length === 6 ? 4 : 6;
}

/** The peer with this id in this family's half (or as the torrent's solo peer). */
export function findPeer(t: Torrent, family: AddressFamily, pid: string): SwarmPeer | undefined {
  if (t.solo !== null) return t.solo.id === pid && familyOf(t.solo) === family ? t.solo : undefined;
  return (family === 4 ? t.v4 : t.v6)?.byId.get(pid);
}

export function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

export function newPeer(id: string, compact: string, key: number, isSeeder: boolean, now: number): SwarmPeer {
  return { id, compact, key, lastSeenMs: now, isSeeder, hasCompleted: false, index: 0 };
}

export function reject(reason: RejectReason): AnnounceRejection {
  return { ok: false, reason, message: REJECT_MESSAGES[reason] };
}
