import type { MagnetLink, Metainfo } from '../metainfo/types.js';
import type { Clock } from '../util/clock.js';
import type { Message } from '../wire/messages.js';
import { MsgId } from '../wire/messages.js';
import { type SessionWarning, warning } from './events.js';
import { MetadataFetcher } from './metadata-fetcher.js';
import type { PeerChannel } from './peer-channel.js';
import type { PeerConnection } from './peer-connection.js';

/** Piece-set messages kept per connection for the torrent (a bitfield, then haves). */
const MAX_REPLAY_MESSAGES = 10_000;

export interface MagnetPhaseOptions {
  readonly magnet: MagnetLink;
  readonly clock: Clock;
  onMetadata(metainfo: Metainfo): void;
  onWarning(w: SessionWarning): void;
  onFailed(err: Error): void;
  /** A peer sent bad metadata: the slot bans its address so it is not dialled again. */
  onBadPeer(channel: PeerChannel, code: string, detail: string): void;
}

/**
 * A torrent added by magnet link, before its info dictionary is known: the connections made so
 * far (from the same peer book and sources as later) wait here while the `MetadataFetcher`
 * gets the info dictionary from them (BEP 9). Their piece sets are kept to replay to the
 * torrent once it exists, so no connection is made twice.
 */
export class MagnetPhase {
  private readonly waiting = new Map<PeerConnection, Message[]>();
  private readonly fetcher: MetadataFetcher;

  constructor(readonly options: MagnetPhaseOptions) {
    const { magnet, clock } = options;
    this.fetcher = new MetadataFetcher({
      target: { infoHash: magnet.infoHash, infoHashV2: magnet.infoHashV2 },
      now: () => clock.now(),
      onMetadata: (metainfo) => options.onMetadata(metainfo),
      onWarning: (message) => options.onWarning(warning('METADATA_RETRY', message)),
      onFailed: (err) => options.onFailed(err),
      onBadPeer: (channel, code, detail) => {
        options.onWarning(
          warning(
            'METADATA_BAD_PEER',
            `dropped ${channel.remoteHost}:${channel.remotePort}: ${code}: ${detail}`,
            `${channel.remoteHost}:${channel.remotePort}`,
          ),
        );
        options.onBadPeer(channel, code, detail);
      },
    });
  }

  /** Connections waiting for the metadata. */
  get size(): number {
    return this.waiting.size;
  }

  /** Metadata pieces fetched so far, for status displays. */
  progress(): number {
    const p = this.fetcher.progress();
    return p.piecesTotal === 0 ? 0 : p.piecesHave / p.piecesTotal;
  }

  /** Keep a handshaken connection until the metadata arrives. */
  hold(conn: PeerConnection): void {
    const replay: Message[] = [];
    this.waiting.set(conn, replay);
    conn.bind({
      onMessage: (m) => {
        // Piece sets and haves are replayed to the torrent once it exists.
        if (isPieceSet(m) && replay.length < MAX_REPLAY_MESSAGES) replay.push(m);
      },
      onExtendedHandshake: () => this.fetcher.addPeer(conn),
      onExtension: (name, payload) => {
        if (name === 'ut_metadata') this.fetcher.onMessage(conn, payload);
      },
      onDrain: () => {},
      onClose: () => {
        this.waiting.delete(conn);
        this.fetcher.removePeer(conn);
      },
    });
    if (conn.peerExtended) this.fetcher.addPeer(conn);
  }

  /** Once a second: re-request timed-out metadata pieces. */
  tick(): void {
    this.fetcher.tick();
  }

  /** The metadata arrived: hand every live connection (with what to replay) to the torrent. */
  handOver(): [PeerConnection, Message[]][] {
    const out = [...this.waiting.entries()].filter(([conn]) => !conn.protocol.isClosed);
    this.waiting.clear();
    return out;
  }

  close(reason: string): void {
    for (const conn of [...this.waiting.keys()]) conn.close(reason);
    this.waiting.clear();
  }
}

function isPieceSet(m: Message): boolean {
  return m.id === MsgId.Bitfield || m.id === MsgId.Have || m.id === MsgId.HaveAll || m.id === MsgId.HaveNone;
}
