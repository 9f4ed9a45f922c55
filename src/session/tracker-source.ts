/**
 * Trackers as a peer source: one `TrackerClient` per torrent (BEP 3/12/15 tiers), sharing the
 * session's tracker transport (one UDP socket pair, one connection-id cache).
 */
import { TrackerClient } from '../tracker/client/tracker-client.js';
import type { TrackerTransport } from '../tracker/client/transport.js';
import type { Scheduler } from '../util/clock.js';
import type { Random } from '../util/random.js';
import { warning } from './events.js';
import type { PeerSource, PeerSourceContext, PeerSourceFactory, PeerSourceStatus } from './peer-source.js';

export interface TrackerSourceOptions {
  readonly peerId: Uint8Array;
  /** The session's shared tracker transport (made when first needed). */
  readonly transport: () => TrackerTransport;
  readonly scheduler: Scheduler;
  readonly random: Random;
}

export function trackerSourceFactory(options: TrackerSourceOptions): PeerSourceFactory {
  return {
    name: 'tracker',
    create: (context) =>
      context.announceTiers.some((t) => t.length > 0) ? new TrackerSource(context, options) : null,
  };
}

class TrackerSource implements PeerSource {
  readonly name = 'tracker';
  private readonly client: TrackerClient;
  private readonly peersByUrl = new Map<string, number>();

  constructor(context: PeerSourceContext, options: TrackerSourceOptions) {
    this.client = new TrackerClient({
      infoHash: context.infoHash,
      peerId: options.peerId,
      port: context.listenPort(),
      announceTiers: context.announceTiers,
      transport: options.transport(),
      scheduler: options.scheduler,
      random: options.random,
      getStats: () => context.stats(),
      onPeers: (peers, url) => {
        this.peersByUrl.set(String(url), (this.peersByUrl.get(String(url)) ?? 0) + peers.length);
        context.addPeers(
          peers.map((p) => ({ host: p.host, port: p.port })),
          'tracker',
        );
      },
      onWarning: (url, message) =>
        context.warn(warning('TRACKER_WARNING', `tracker ${url}: ${message}`, url)),
      onError: (url, err) => context.warn(warning('TRACKER_ERROR', `tracker ${url}: ${err.message}`, url)),
    });
  }

  start(): void {
    this.client.start();
  }

  completed(): void {
    this.client.completed();
  }

  stop(): Promise<void> {
    return this.client.stop();
  }

  describe(): PeerSourceStatus[] {
    return this.client.trackers().map((t) => ({
      source: 'tracker',
      name: t.url,
      status: t.lastError !== undefined && !t.isWorking ? 'error' : t.isWorking ? 'ok' : 'idle',
      peers: this.peersByUrl.get(t.url) ?? 0,
      message: t.lastError ?? null,
      nextAnnounceMs: Number.isFinite(t.nextAnnounceAtMs) ? t.nextAnnounceAtMs : null,
    }));
  }
}
