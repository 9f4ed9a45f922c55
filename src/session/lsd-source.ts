/**
 * BEP 14 local service discovery as a peer source: every public torrent is announced on the LAN
 * when it starts (and then every few minutes, at most once a minute), and peers that announce it
 * are added to its book. Private torrents (BEP 27) never use it.
 */
import type { LsdService } from '../discovery/lsd-service.js';
import { toHex } from '../util/bytes.js';
import type { PeerSource, PeerSourceContext, PeerSourceFactory, PeerSourceStatus } from './peer-source.js';

export function lsdPeerSourceFactory(lsd: LsdService): PeerSourceFactory {
  return {
    name: 'lsd',
    create: (context) => (context.isPrivate ? null : new LsdSource(lsd, context)),
  };
}

class LsdSource implements PeerSource {
  readonly name = 'lsd';
  private unregister: (() => void) | null = null;
  private peersFound = 0;

  constructor(
    private readonly lsd: LsdService,
    private readonly context: PeerSourceContext,
  ) {}

  start(): void {
    if (this.unregister) return;
    this.unregister = this.lsd.register(
      toHex(this.context.infoHash),
      () => this.context.listenPort(),
      (peer) => {
        this.peersFound++;
        this.context.addPeers([peer], 'lsd');
      },
    );
  }

  completed(): void {}

  async stop(): Promise<void> {
    this.unregister?.();
    this.unregister = null;
  }

  describe(): PeerSourceStatus[] {
    const working = this.lsd.families.length > 0;
    return [
      {
        source: 'lsd',
        name: 'lsd',
        status: this.unregister === null ? 'stopped' : working ? 'ok' : 'error',
        peers: this.peersFound,
        message: working ? null : this.lsd.problems.join('; ') || 'no multicast socket',
        nextAnnounceMs: null,
      },
    ];
  }
}
