/**
 * The DHT operations built from lookups and writes: BEP 44 get/put (with the checks a reader
 * must make: hash, key and signature) and the write phase shared with announce_peer. They use
 * the node only through `OpsHost`, which keeps `node.ts` the dispatcher and state owner.
 */
import { toHex } from '../util/bytes.js';
import type { PeerAddress } from '../util/ip.js';
import { DhtError } from './errors.js';
import {
  type DhtItem,
  type ItemKeyPair,
  immutableTarget,
  mutableTarget,
  signItem,
  verifyItem,
} from './items.js';
import type { KrpcQuery, KrpcResponse, NodeContact } from './krpc.js';
import type { LookupStats, Responder } from './lookup.js';
import type { RpcOutcome } from './rpc.js';

export interface OpsHost {
  lookup(
    target: Uint8Array,
    query: KrpcQuery,
    onResponse: (from: NodeContact, r: KrpcResponse) => boolean,
    onDone: (closest: Responder[], stats: LookupStats) => void,
  ): () => void;
  /** Send a query; its outcome also updates the routing table. False when not sent. */
  ask(to: PeerAddress, query: KrpcQuery, onDone: (outcome: RpcOutcome) => void): boolean;
  /** Drop a node that lied (bad item, wrong answer). */
  dropLiar(to: PeerAddress): void;
}

/** Send a write (announce_peer, put) to every responder that gave a token; count successes. */
export function writeTo(
  host: OpsHost,
  closest: readonly Responder[],
  make: (token: Uint8Array) => KrpcQuery,
  done: (n: number) => void,
): void {
  let pending = 0;
  let accepted = 0;
  for (const r of closest) {
    if (!r.token) continue;
    const to = { host: r.contact.host, port: r.contact.port };
    const sent = host.ask(to, make(r.token), (o) => {
      if (o.kind === 'response') accepted++;
      if (--pending === 0) done(accepted);
    });
    if (sent) pending++;
  }
  if (pending === 0) done(0);
}

/**
 * Get an item: immutable by its target, mutable by SHA-1(k ‖ salt) (pass the salt, it is
 * part of what is verified). Items failing their hash or signature drop their node. The
 * newest valid `seq` wins. Null when no node has it.
 */
export function getItem(
  host: OpsHost,
  target: Uint8Array,
  options: { salt?: Uint8Array } = {},
): Promise<DhtItem | null> {
  return new Promise((resolve) => {
    let best: DhtItem | null = null;
    const consider = (r: KrpcResponse): boolean => {
      if (!r.v) return true;
      const item = verifyFound(target, r, options.salt);
      if (!item) return false;
      if (!best || (item.seq ?? 0) > (best.seq ?? 0)) best = item;
      return true;
    };
    host.lookup(
      target,
      { method: 'get', target },
      (_f, r) => r.token !== undefined && consider(r),
      (closest) => {
        if (best) {
          resolve(best);
          return;
        }
        // Nodes that had not verified us may have left the value out (no amplification);
        // they pinged us meanwhile, so one more direct ask gets it.
        askAgain(host, closest, { method: 'get', target }, consider, () => resolve(best));
      },
    );
  });
}

function askAgain(
  host: OpsHost,
  closest: readonly Responder[],
  query: KrpcQuery,
  onResponse: (r: KrpcResponse) => boolean,
  done: () => void,
): void {
  let pending = 0;
  for (const c of closest) {
    const to = { host: c.contact.host, port: c.contact.port };
    const sent = host.ask(to, query, (o) => {
      if (o.kind === 'response' && !onResponse(o.response)) host.dropLiar(to);
      if (--pending === 0) done();
    });
    if (sent) pending++;
  }
  if (pending === 0) done();
}

function verifyFound(target: Uint8Array, r: KrpcResponse, salt?: Uint8Array): DhtItem | null {
  const v = r.v!;
  if (!r.k) return toHex(immutableTarget(v)) === toHex(target) ? { v } : null;
  if (!r.sig || r.seq === undefined) return null;
  if (toHex(mutableTarget(r.k, salt)) !== toHex(target)) return null;
  if (!verifyItem(r.k, r.sig, v, r.seq, salt)) return null;
  return { v, k: r.k, sig: r.sig, seq: r.seq, ...(salt && salt.length > 0 ? { salt } : {}) };
}

/** Store an immutable item (its bencoded value) on the closest nodes. */
export function putImmutable(host: OpsHost, v: Uint8Array): Promise<{ target: Uint8Array; stored: number }> {
  if (v.length > 1000)
    return Promise.reject(new DhtError('DHT_BAD_ITEM', 'an item value is at most 1000 bytes'));
  const target = immutableTarget(v);
  return new Promise((resolve) => {
    host.lookup(
      target,
      { method: 'get', target },
      (_f, r) => r.token !== undefined,
      (closest) =>
        writeTo(
          host,
          closest,
          (token) => ({ method: 'put', token, v }),
          (stored) => resolve({ target, stored }),
        ),
    );
  });
}

/** Sign and store a mutable item under SHA-1(k ‖ salt); `cas` makes it a compare-and-swap. */
export function putMutable(
  host: OpsHost,
  put: {
    keyPair: ItemKeyPair;
    v: Uint8Array;
    seq: number;
    salt?: Uint8Array;
    cas?: number;
  },
): Promise<{ target: Uint8Array; stored: number }> {
  if (put.v.length > 1000)
    return Promise.reject(new DhtError('DHT_BAD_ITEM', 'an item value is at most 1000 bytes'));
  if (put.salt && put.salt.length > 64)
    return Promise.reject(new DhtError('DHT_BAD_ITEM', 'a salt is at most 64 bytes'));
  const target = mutableTarget(put.keyPair.publicKey, put.salt);
  const sig = signItem(put.keyPair, put.v, put.seq, put.salt);
  return new Promise((resolve) => {
    host.lookup(
      target,
      { method: 'get', target },
      (_f, r) => r.token !== undefined,
      (closest) =>
        writeTo(
          host,
          closest,
          (token) => ({
            method: 'put',
            token,
            v: put.v,
            k: put.keyPair.publicKey,
            sig,
            seq: put.seq,
            ...(put.salt && put.salt.length > 0 ? { salt: put.salt } : {}),
            ...(put.cas === undefined ? {} : { cas: put.cas }),
          }),
          (stored) => resolve({ target, stored }),
        ),
    );
  });
}
