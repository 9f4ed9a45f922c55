/**
 * The rendezvous at work: LAN multicast (net/multicast.ts) and a BEP 44 item on the DHT. The
 * sender announces; the receiver asks and listens, and yields each candidate address once.
 * Formats and the reasons behind them are in rendezvous.ts.
 */

import { mutableTarget } from '../dht/items.js';
import { startUdpDht, type UdpDht } from '../dht/udp-adapter.js';
import { type MulticastGroup, type MulticastSocket, openMulticast } from '../net/multicast.js';
import { UdpMux } from '../net/udp-mux.js';
import { type CancelTimer, systemScheduler } from '../util/clock.js';
import type { PeerAddress } from '../util/ip.js';
import {
  decodeDhtHints,
  decodeLanMessage,
  dhtItemKey,
  dhtWindow,
  encodeDhtHints,
  encodeLanMessage,
} from './rendezvous.js';

/** Our own group (LSD's organisation-local address, another port): LSD parsers never see us. */
export const HANDOFF_GROUP_V4: MulticastGroup = { address: '239.192.152.143', port: 6772, family: 'IPv4' };

export interface LanOptions {
  readonly group?: MulticastGroup;
  /** Interfaces to use (names or addresses); default every non-loopback one. */
  readonly interfaces?: readonly string[];
  /** Deliver our own datagrams back (tests on one host). */
  readonly loopback?: boolean;
}

export interface DhtOptions {
  readonly bootstrap: readonly PeerAddress[];
  /** Several nodes per IP (a loopback test network). */
  readonly isLoopbackNetwork?: boolean;
}

export interface Stoppable {
  close(): Promise<void>;
}

async function openLan(options: LanOptions): Promise<MulticastSocket> {
  return openMulticast({
    group: options.group ?? HANDOFF_GROUP_V4,
    ...(options.interfaces ? { interfaces: options.interfaces } : {}),
    ...(options.loopback ? { loopback: true } : {}),
  });
}

/** Sender: announce the nameplate and port now, every 2 s, and at once on a matching query. */
export async function announceOnLan(
  nameplate: number,
  port: number,
  options: LanOptions,
): Promise<Stoppable> {
  const socket = await openLan(options);
  const announce = encodeLanMessage({ kind: 'announce', nameplate, port });
  const send = () => void socket.send(announce).catch(() => {});
  socket.onError(() => {});
  socket.onMessage((bytes) => {
    const m = decodeLanMessage(bytes);
    if (m?.kind === 'query' && m.nameplate === nameplate) send();
  });
  send();
  const cancel = systemScheduler.setInterval(2000, send);
  return {
    async close() {
      cancel();
      await socket.close();
    },
  };
}

/** A stream of candidate addresses, each once; `close` ends it. */
export class Candidates {
  private readonly seen = new Set<string>();
  private readonly queue: PeerAddress[] = [];
  private waiter: (() => void) | null = null;
  private isClosed = false;
  private readonly closers: (() => Promise<void>)[] = [];

  add(a: PeerAddress): void {
    const key = `${a.host}|${a.port}`;
    if (this.isClosed || this.seen.has(key)) return;
    this.seen.add(key);
    this.queue.push(a);
    this.waiter?.();
  }

  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  /** The next candidate, or null once closed or after `timeoutMs` with nothing new. */
  next(timeoutMs: number): Promise<PeerAddress | null> {
    const ready = this.queue.shift();
    if (ready || this.isClosed) return Promise.resolve(ready ?? null);
    return new Promise((resolve) => {
      let cancel: CancelTimer = () => {};
      this.waiter = () => {
        this.waiter = null;
        cancel();
        resolve(this.queue.shift() ?? null);
      };
      cancel = systemScheduler.setTimer(timeoutMs, () => this.waiter?.());
    });
  }

  /** No more candidates will come: `next` returns what is queued, then null. */
  end(): void {
    this.isClosed = true;
    this.waiter?.();
  }

  async close(): Promise<void> {
    this.end();
    if (this.closers.length === 0) return;
    const closers = this.closers.splice(0);
    await Promise.allSettled(closers.map((c) => c()));
  }
}

/** Receiver: query the group now and every second; each announce for `nameplate` is a candidate. */
export async function findOnLan(nameplate: number, options: LanOptions, into: Candidates): Promise<void> {
  const socket = await openLan(options);
  const query = encodeLanMessage({ kind: 'query', nameplate });
  socket.onError(() => {});
  socket.onMessage((bytes, from) => {
    const m = decodeLanMessage(bytes);
    if (m?.kind === 'announce' && m.nameplate === nameplate) into.add({ host: from.host, port: m.port });
  });
  const send = () => void socket.send(query).catch(() => {});
  send();
  const cancel = systemScheduler.setInterval(1000, send);
  into.onClose(async () => {
    cancel();
    await socket.close();
  });
}

/** A DHT node of our own on a fresh UDP port (the handoff session itself has no UDP). */
export async function startDhtNode(options: DhtOptions): Promise<{ dht: UdpDht; close(): Promise<void> }> {
  const mux = await UdpMux.bind({
    port: 0,
    families: [4],
    ...(options.isLoopbackNetwork ? { host4: '127.0.0.1' } : {}),
  });
  const dht = startUdpDht(mux, {
    bootstrap: [...options.bootstrap],
    restrictIps: !options.isLoopbackNetwork,
  });
  return {
    dht,
    async close() {
      dht.close();
      await mux.close();
    },
  };
}

/** Sender: keep the item of the current window up to date (every 60 s and at each new window). */
export async function publishOnDht(
  nameplate: number,
  hints: readonly PeerAddress[],
  options: DhtOptions,
  now: () => number = Date.now,
): Promise<Stoppable> {
  const node = await startDhtNode(options);
  const v = encodeDhtHints(hints);
  const put = () =>
    node.dht.node
      .putMutable({ keyPair: dhtItemKey(nameplate, dhtWindow(now())), v, seq: Math.floor(now() / 1000) })
      .catch(() => null);
  await node.dht.node.ready();
  await put();
  const cancel = systemScheduler.setInterval(60_000, () => void put());
  return {
    async close() {
      cancel();
      await node.close();
    },
  };
}

/** Receiver: look the item up (this window and the one before) every 2 s; its hints are candidates. */
export async function findOnDht(
  nameplate: number,
  options: DhtOptions,
  into: Candidates,
  now: () => number = Date.now,
): Promise<void> {
  const node = await startDhtNode(options);
  let isClosed = false;
  let cancel: CancelTimer = () => {};
  into.onClose(async () => {
    isClosed = true;
    cancel();
    await node.close();
  });
  await node.dht.node.ready();
  const round = async () => {
    const w = dhtWindow(now());
    for (const window of [w, w - 1]) {
      if (isClosed) return;
      const key = dhtItemKey(nameplate, window);
      const item = await node.dht.node.getItem(mutableTarget(key.publicKey)).catch(() => null);
      // The item is signed by a key anyone can derive: it is a hint, never trusted further.
      if (item?.k && Buffer.from(item.k).equals(Buffer.from(key.publicKey)))
        for (const a of decodeDhtHints(item.v)) into.add(a);
    }
    if (!isClosed) cancel = systemScheduler.setTimer(2000, () => void round());
  };
  void round();
}
