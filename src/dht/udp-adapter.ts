/**
 * The DHT on a real UDP port: a thin adapter that registers a `DhtNode` on the session's
 * `UdpMux` under `krpc` (datagrams starting with `d`). Everything else is the pure node.
 */
import type { UdpMux } from '../net/udp-mux.js';
import { type Scheduler, systemScheduler } from '../util/clock.js';
import type { PeerAddress } from '../util/ip.js';
import { DhtNode, type DhtNodeOptions } from './node.js';

export interface UdpDhtOptions extends Omit<DhtNodeOptions, 'send' | 'scheduler' | 'families'> {
  readonly scheduler?: Scheduler;
}

export interface UdpDht {
  readonly node: DhtNode;
  /** Stop the node (persisting its table) and leave the mux. */
  close(): void;
}

/** `::ffff:1.2.3.4` (a v4 peer seen on a dual-stack socket) is the IPv4 node 1.2.3.4. */
function unmapped(host: string): string {
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

/** Run a DHT node on `mux`, for the families the mux has sockets for; started. */
export function startUdpDht(mux: UdpMux, options: UdpDhtOptions = {}): UdpDht {
  let send: ((bytes: Uint8Array, host: string, port: number) => boolean) | null = null;
  const families = ([4, 6] as const).filter((f) => mux.hasFamily(f));
  const node = new DhtNode({
    ...options,
    scheduler: options.scheduler ?? systemScheduler,
    families,
    send: (bytes: Uint8Array, to: PeerAddress) => {
      send?.(bytes, to.host, to.port);
    },
  });
  const registration = mux.register('krpc', (bytes, from) => {
    node.handleMessage(bytes, { host: unmapped(from.host), port: from.port });
  });
  send = registration.send;
  node.start();
  return {
    node,
    close() {
      node.stop();
      registration.unregister();
    },
  };
}
