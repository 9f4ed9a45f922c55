/**
 * The answers a DHT node gives to others' queries (BEP 5, 32, 44, 51), as pure functions of
 * its state. The node around it decides whether to answer at all (rate limits, read-only mode)
 * and trims answers to unverified addresses (no amplification).
 */
import type { PeerAddress } from '../util/ip.js';
import type { ItemStore } from './items.js';
import {
  KrpcErrorCode,
  type KrpcQuery,
  type KrpcResponse,
  MAX_SAMPLES,
  type NodeContact,
  type WantFamily,
} from './krpc.js';
import type { PeerStore, TokenSecrets } from './peer-store.js';
import type { RoutingTable } from './routing-table.js';

/** BEP 51: how often a crawler may ask us again, in seconds. */
export const SAMPLE_INTERVAL_S = 6 * 60 * 60;
/** Peers per get_peers answer before trimming (libtorrent sends up to 100 in a full answer). */
export const MAX_VALUES_PER_ANSWER = 100;

export interface ResponderState {
  readonly ownId: Uint8Array;
  readonly tables: ReadonlyMap<4 | 6, RoutingTable>;
  readonly tokens: TokenSecrets;
  readonly peers: PeerStore;
  readonly items: ItemStore;
  readonly pick: () => number;
}

export type Answer =
  | { readonly kind: 'response'; readonly response: KrpcResponse }
  | { readonly kind: 'error'; readonly code: number; readonly message: string };

function familyOf(host: string): 4 | 6 {
  return host.includes(':') ? 6 : 4;
}

/** BEP 32: nodes for the requester's family, or the families it asked for with `want`. */
function nodesFor(
  state: ResponderState,
  target: Uint8Array,
  from: PeerAddress,
  want: readonly WantFamily[] | undefined,
): { nodes?: NodeContact[]; nodes6?: NodeContact[] } {
  const families = want && want.length > 0 ? want.map((w) => (w === 'n4' ? 4 : 6)) : [familyOf(from.host)];
  const out: { nodes?: NodeContact[]; nodes6?: NodeContact[] } = {};
  for (const family of families) {
    const table = state.tables.get(family as 4 | 6);
    if (!table) continue;
    const closest = table.closest(target, 8).map((e) => ({ id: e.id, host: e.host, port: e.port }));
    if (family === 4) out.nodes = closest;
    else out.nodes6 = closest;
  }
  return out;
}

export function answerQuery(state: ResponderState, query: KrpcQuery, from: PeerAddress): Answer {
  const id = state.ownId;
  switch (query.method) {
    case 'ping':
      return { kind: 'response', response: { id } };
    case 'find_node':
      return { kind: 'response', response: { id, ...nodesFor(state, query.target, from, query.want) } };
    case 'get_peers': {
      const token = state.tokens.issue(from.host);
      const values = state.peers.peers(
        query.infoHash,
        familyOf(from.host),
        MAX_VALUES_PER_ANSWER,
        state.pick,
        query.noSeed ?? false,
      );
      // BEP 5: values when we have peers, else the closest nodes; we send nodes either way so
      // a lookup keeps converging (libtorrent does the same); trimming may drop them.
      const nodes = nodesFor(state, query.infoHash, from, query.want);
      return {
        kind: 'response',
        response: { id, token, ...(values.length > 0 ? { values } : {}), ...nodes },
      };
    }
    case 'announce_peer': {
      if (!state.tokens.isValid(from.host, query.token))
        return { kind: 'error', code: KrpcErrorCode.Protocol, message: 'bad token' };
      const port = query.impliedPort ? from.port : query.port;
      if (port === 0) return { kind: 'error', code: KrpcErrorCode.Protocol, message: 'bad port' };
      state.peers.announce(query.infoHash, { host: from.host, port }, query.seed ?? false);
      return { kind: 'response', response: { id } };
    }
    case 'get': {
      const token = state.tokens.issue(from.host);
      const nodes = nodesFor(state, query.target, from, query.want);
      const item = state.items.get(query.target);
      if (!item) return { kind: 'response', response: { id, token, ...nodes } };
      if (item.k === undefined) return { kind: 'response', response: { id, token, ...nodes, v: item.v } };
      // BEP 44: a requester that already has this seq (or newer) gets only the seq.
      if (query.seq !== undefined && item.seq! <= query.seq)
        return { kind: 'response', response: { id, token, ...nodes, seq: item.seq! } };
      return {
        kind: 'response',
        response: { id, token, ...nodes, v: item.v, k: item.k, sig: item.sig!, seq: item.seq! },
      };
    }
    case 'put': {
      if (!state.tokens.isValid(from.host, query.token))
        return { kind: 'error', code: KrpcErrorCode.Protocol, message: 'bad token' };
      const outcome = state.items.put(query);
      return outcome.ok
        ? { kind: 'response', response: { id } }
        : { kind: 'error', code: outcome.code, message: outcome.message };
    }
    case 'sample_infohashes': {
      const samples = state.peers.sample(MAX_SAMPLES, state.pick);
      return {
        kind: 'response',
        response: {
          id,
          interval: SAMPLE_INTERVAL_S,
          num: state.peers.torrentCount,
          samples,
          ...nodesFor(state, query.target, from, query.want),
        },
      };
    }
    case 'unknown':
      return { kind: 'error', code: KrpcErrorCode.MethodUnknown, message: 'Method Unknown' };
  }
}

/**
 * A smaller version of an answer, for an address that has not proven it receives at its
 * source address: no nodes beside values first, then fewer values and samples, then no nodes
 * of a second family, then no item value. Null when nothing smaller is possible.
 */
export function trimAnswer(r: KrpcResponse): KrpcResponse | null {
  if (r.values && (r.nodes || r.nodes6)) {
    const { nodes: _n, nodes6: _n6, ...rest } = r;
    return rest;
  }
  if (r.values && r.values.length > 1) return { ...r, values: r.values.slice(0, r.values.length >> 1) };
  if (r.samples && r.samples.length > 1) return { ...r, samples: r.samples.slice(0, r.samples.length >> 1) };
  if (r.nodes && r.nodes6) {
    const { nodes6: _n6, ...rest } = r;
    return rest;
  }
  if (r.v) {
    const { v: _v, k: _k, sig: _s, seq: _q, ...rest } = r;
    return rest;
  }
  if (r.nodes && r.nodes.length > 4) return { ...r, nodes: r.nodes.slice(0, 4) };
  if (r.nodes6 && r.nodes6.length > 2) return { ...r, nodes6: r.nodes6.slice(0, 2) };
  return null;
}
