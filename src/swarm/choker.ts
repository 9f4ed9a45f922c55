import type { Random } from '../util/random.js';
import type { PeerId } from './types.js';

/** What the choker needs to know about one connected peer. */
export interface ChokerPeer {
  readonly id: PeerId;
  /** The peer is interested in us (only interested peers are unchoked). */
  readonly isInterested: boolean;
  /** We are interested in the peer (for anti-snubbing). */
  readonly amInterested: boolean;
  /** Bytes/s the peer sends us. */
  readonly downloadRate: number;
  /** Bytes/s we send the peer. */
  readonly uploadRate: number;
  readonly connectedAtMs: number;
  /** When the peer last sent us a block (null: never). */
  readonly lastBlockAtMs: number | null;
  /** When we unchoked the peer, if it is unchoked now (null: choked). */
  readonly unchokedSinceMs: number | null;
  /** When the peer's last unchoked turn ended (null: never unchoked). */
  readonly lastUnchokeEndedMs: number | null;
}

export interface ChokerSettings {
  /** Regular upload slots; `Infinity` unchokes every interested peer. */
  readonly uploadSlots: number;
  /** Whether to add an optimistic unchoke on top of the regular slots. */
  readonly hasOptimistic: boolean;
  /** BEP 3: the optimistic unchoke rotates every 30 s. */
  readonly optimisticIntervalMs: number;
  /** No block for this long while we are interested: the peer snubs us (not a reciprocator). */
  readonly snubTimeoutMs: number;
  /** Peers connected less than this long are "new": 3× as likely to be optimistically unchoked. */
  readonly newPeerMs: number;
  /** Seeding: a peer's unchoked turn lasts this long before others get priority. */
  readonly seedTurnMs: number;
  readonly isSeeding: boolean;
}

export const DEFAULT_CHOKER_SETTINGS: ChokerSettings = {
  uploadSlots: 4,
  hasOptimistic: true,
  optimisticIntervalMs: 30_000,
  snubTimeoutMs: 60_000,
  newPeerMs: 90_000,
  seedTurnMs: 60_000,
  isSeeding: false,
};

/** The choker's memory between rounds (kept by the caller). */
export interface ChokerState {
  readonly nowMs: number;
  readonly random: Random;
  readonly optimistic: PeerId | null;
  readonly optimisticSinceMs: number;
}

export interface ChokerDecision {
  /** Every peer to have unchoked after this round (the optimistic one included). */
  readonly unchoke: Set<PeerId>;
  readonly optimistic: PeerId | null;
  /** When the current optimistic unchoke started (feed back as `state.optimisticSinceMs`). */
  readonly optimisticSinceMs: number;
}

/**
 * Decide who to unchoke; a pure function (libtorrent's unchoke_sort). Run it every 10 s
 * (BEP 3) and on interest changes.
 *
 * Leeching (tit-for-tat): interested peers ranked by the rate they send us; a peer that has
 * sent nothing for `snubTimeoutMs` while we are interested ranks as a non-reciprocator
 * (rate 0). Ties go to the peer we upload to faster.
 *
 * Seeding (rotation): peers within their turn (unchoked < `seedTurnMs` ago) keep their slot,
 * ranked by our upload rate to them; then choked peers, longest-waiting first (never
 * unchoked before all); peers whose turn ended go last. Every interested peer gets a turn.
 *
 * Optimistic unchoke (both modes): one extra interested peer outside the regular slots, kept
 * for `optimisticIntervalMs`, then redrawn at random with new peers weighted 3×.
 */
export function chooseUnchoked(
  peers: readonly ChokerPeer[],
  settings: ChokerSettings,
  state: ChokerState,
): ChokerDecision {
  const interested = peers.filter((p) => p.isInterested);
  if (!Number.isFinite(settings.uploadSlots)) {
    return {
      unchoke: new Set(interested.map((p) => p.id)),
      optimistic: null,
      optimisticSinceMs: state.nowMs,
    };
  }
  const ranked = settings.isSeeding
    ? rankSeeding(interested, settings, state.nowMs)
    : rankLeeching(interested, settings, state.nowMs);
  const regular = ranked.slice(0, Math.max(0, settings.uploadSlots));
  const unchoke = new Set(regular.map((p) => p.id));
  if (!settings.hasOptimistic) return { unchoke, optimistic: null, optimisticSinceMs: state.nowMs };
  const rest = interested.filter((p) => !unchoke.has(p.id));
  const current = rest.find((p) => p.id === state.optimistic);
  const isFresh = state.nowMs - state.optimisticSinceMs < settings.optimisticIntervalMs;
  if (current && isFresh) {
    unchoke.add(current.id);
    return { unchoke, optimistic: current.id, optimisticSinceMs: state.optimisticSinceMs };
  }
  const pickable = rest.length > 1 ? rest.filter((p) => p.id !== state.optimistic) : rest;
  const chosen = drawOptimistic(pickable, settings, state);
  if (chosen) unchoke.add(chosen);
  return { unchoke, optimistic: chosen, optimisticSinceMs: state.nowMs };
}

function isSnubbing(p: ChokerPeer, settings: ChokerSettings, nowMs: number): boolean {
  if (!p.amInterested) return false;
  const since = p.lastBlockAtMs ?? p.connectedAtMs;
  return nowMs - since >= settings.snubTimeoutMs;
}

function rankLeeching(peers: readonly ChokerPeer[], settings: ChokerSettings, nowMs: number): ChokerPeer[] {
  const rate = (p: ChokerPeer) => (isSnubbing(p, settings, nowMs) ? 0 : p.downloadRate);
  return [...peers].sort((a, b) => rate(b) - rate(a) || b.uploadRate - a.uploadRate || cmpId(a, b));
}

function rankSeeding(peers: readonly ChokerPeer[], settings: ChokerSettings, nowMs: number): ChokerPeer[] {
  const group = (p: ChokerPeer) => {
    if (p.unchokedSinceMs === null) return 1;
    return nowMs - p.unchokedSinceMs < settings.seedTurnMs ? 0 : 2;
  };
  const waited = (p: ChokerPeer) =>
    p.lastUnchokeEndedMs === null ? Number.NEGATIVE_INFINITY : p.lastUnchokeEndedMs;
  return [...peers].sort((a, b) => {
    const g = group(a) - group(b);
    if (g !== 0) return g;
    if (group(a) === 1) return waited(a) - waited(b) || cmpId(a, b);
    return b.uploadRate - a.uploadRate || cmpId(a, b);
  });
}

function drawOptimistic(
  peers: readonly ChokerPeer[],
  settings: ChokerSettings,
  state: ChokerState,
): PeerId | null {
  const weight = (p: ChokerPeer) => (state.nowMs - p.connectedAtMs < settings.newPeerMs ? 3 : 1);
  const total = peers.reduce((sum, p) => sum + weight(p), 0);
  let r = state.random.next() * total;
  for (const p of peers) {
    r -= weight(p);
    if (r < 0) return p.id;
  }
  return peers[peers.length - 1]?.id ?? null;
}

function cmpId(a: ChokerPeer, b: ChokerPeer): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
