/**
 * The Mainline DHT (BEP 5) as a peer source: every public torrent looks itself up when it
 * starts and again every 15 minutes, and announces our port (BEP 5 announces expire after
 * ~30 min). Private torrents (BEP 27) never touch the DHT. `port` messages from peers add
 * their nodes to our routing table.
 */
import type { DhtPeerDiscovery } from '../dht/peer-discovery.js';
import type { PeerAddress } from '../swarm/peer-book.js';
import type { CancelTimer, Scheduler } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { warning } from './events.js';
import type { PeerSource, PeerSourceContext, PeerSourceFactory, PeerSourceStatus } from './peer-source.js';

/** Between lookups (and announces) of one torrent. */
const DHT_REFRESH_MS = 15 * 60_000;
/**
 * Lookups that found nobody are tried again sooner, backing off (at start the routing table is
 * often still filling from the bootstrap nodes).
 */
const DHT_RETRY_MS = [3_000, 10_000, 30_000, 60_000, 5 * 60_000];

export function dhtPeerSourceFactory(dht: DhtPeerDiscovery, scheduler: Scheduler): PeerSourceFactory {
  return {
    name: 'dht',
    create: (context) => (context.isPrivate ? null : new DhtSource(dht, scheduler, context)),
  };
}

class DhtSource implements PeerSource {
  readonly name = 'dht';
  private cancelTimer: CancelTimer | null = null;
  private abort: AbortController | null = null;
  private peersFound = 0;
  private lastError: string | null = null;
  private status: PeerSourceStatus['status'] = 'idle';
  private nextMs: number | null = null;
  private isStopped = false;
  private emptyRounds = 0;

  constructor(
    private readonly dht: DhtPeerDiscovery,
    private readonly scheduler: Scheduler,
    private readonly context: PeerSourceContext,
  ) {}

  start(): void {
    this.isStopped = false;
    void this.round();
  }

  completed(): void {
    // Seeds announce too (BEP 5 `seed` flag in libtorrent's extension); the next round does it.
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    this.status = 'stopped';
    this.cancelTimer?.();
    this.abort?.abort();
  }

  onDhtPort(address: PeerAddress): void {
    this.dht.addContact(address);
  }

  describe(): PeerSourceStatus[] {
    return [
      {
        source: 'dht',
        name: 'dht',
        status: this.status,
        peers: this.peersFound,
        message: this.lastError,
        nextAnnounceMs: this.nextMs,
      },
    ];
  }

  /** One lookup, then an announce of our port, then the next round on the scheduler. */
  private async round(): Promise<void> {
    if (this.isStopped) return;
    this.status = 'working';
    this.abort = new AbortController();
    let found = 0;
    try {
      for await (const peer of this.dht.lookup(this.context.infoHash, { signal: this.abort.signal })) {
        found++;
        this.context.addPeers([peer], 'dht');
      }
      const port = this.context.listenPort();
      const isSeed = this.context.stats().left === 0;
      if (port > 0 && !this.isStopped) await this.dht.announce(this.context.infoHash, port, { seed: isSeed });
      this.status = 'ok';
      this.lastError = null;
    } catch (err) {
      if (this.isStopped) return;
      this.status = 'error';
      this.lastError = errorMessage(err);
      this.context.warn(warning('PEER_SOURCE_WARNING', `DHT: ${this.lastError}`, 'dht'));
    }
    this.peersFound += found;
    if (this.isStopped) return;
    this.emptyRounds = found === 0 && this.peersFound === 0 ? this.emptyRounds + 1 : 0;
    const delay =
      this.emptyRounds > 0
        ? DHT_RETRY_MS[Math.min(this.emptyRounds, DHT_RETRY_MS.length) - 1]!
        : DHT_REFRESH_MS;
    this.nextMs = this.scheduler.now() + delay;
    this.cancelTimer = this.scheduler.setTimer(delay, () => void this.round());
  }
}
