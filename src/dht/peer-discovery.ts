/**
 * What a session needs from the DHT, narrowly: peers for an info-hash, announcing one, and
 * BEP 5 `port` messages. `src/session` adapts this to its `PeerSource` (the DHT layer may not
 * import the session).
 */
import type { PeerAddress } from '../util/ip.js';
import type { DhtNode } from './node.js';

export interface DhtPeerLookupOptions {
  readonly signal?: AbortSignal;
}

export class DhtPeerDiscovery {
  constructor(readonly node: DhtNode) {}

  /** Peers for `infoHash` as nodes report them, each once; ends when the lookup converges. */
  lookup(infoHash: Uint8Array, options: DhtPeerLookupOptions = {}): AsyncIterable<PeerAddress> {
    return this.node.getPeers(infoHash, options);
  }

  /**
   * Tell the nodes closest to `infoHash` that we serve it on `port`; resolves with how many
   * accepted. BEP 5 announces expire (libtorrent: 30 min), so call it again every ~15 min.
   */
  announce(infoHash: Uint8Array, port: number, options: { seed?: boolean } = {}): Promise<number> {
    return this.node.announce(infoHash, port, options);
  }

  /** BEP 5 `port` message: the peer runs a node there (pinged, then inserted). */
  addContact(address: PeerAddress): void {
    this.node.addContact(address);
  }
}
