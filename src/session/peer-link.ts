import type { RateMeter } from '../swarm/rate-meter.js';
import type { RequestPipeline } from '../swarm/request-pipeline.js';
import type { Bitfield } from '../util/bitfield.js';
import type { ExtendedHandshake } from '../wire/extension.js';
import type { BlockRef } from '../wire/messages.js';
import type { PeerChannel } from './peer-channel.js';

/**
 * What a torrent tracks about one connected peer beyond the protocol: its piece set as the
 * torrent sees it, upload queue, timings, meters. Choke and interest state is the protocol's
 * (one source of truth): the getters below read it from the channel, and it changes only
 * through the channel's methods.
 */
export class PeerLink {
  /** `ip:port` key, also the peer's id in the picker and choker. */
  readonly id: string;
  /** Set from bitfield / have-all / have messages; sized once the piece count is known. */
  bitfield: Bitfield | null = null;
  hasAll = false;
  extended: ExtendedHandshake | null = null;
  readonly allowedFast = new Set<number>();
  /** Requests the peer made of us, in order (bounded by the wire layer's reqq cap). */
  readonly uploadQueue: BlockRef[] = [];
  /** Serving waits for the read of the queue's head piece, or for the upload limit's tokens. */
  isUploadReading = false;
  isUploadWaiting = false;
  /** The piece of the last block sent (a new one starts the read-ahead of the next). */
  uploadPiece = -1;
  readonly connectedAtMs: number;
  lastBlockAtMs: number | null = null;
  unchokedSinceMs: number | null = null;
  lastUnchokeEndedMs: number | null = null;
  /** Last time we sent PEX to this peer, and the peers we told it about. */
  lastPexAtMs = 0;
  readonly pexSent = new Set<string>();
  /** Corrupt pieces this peer took part in (smart-ban decides on bans). */
  corruptPieces = 0;

  constructor(
    readonly channel: PeerChannel,
    readonly pipeline: RequestPipeline,
    readonly downloadMeter: RateMeter,
    readonly uploadMeter: RateMeter,
    nowMs: number,
  ) {
    this.id = `${channel.remoteHost.includes(':') ? `[${channel.remoteHost}]` : channel.remoteHost}:${channel.remotePort}`;
    this.connectedAtMs = nowMs;
  }

  get amChoking(): boolean {
    return this.channel.amChoking;
  }
  get amInterested(): boolean {
    return this.channel.amInterested;
  }
  get peerChoking(): boolean {
    return this.channel.peerChoking;
  }
  get peerInterested(): boolean {
    return this.channel.peerInterested;
  }

  /** True when the peer has the piece (a seed counts as having everything). */
  has(piece: number): boolean {
    return this.hasAll || (this.bitfield?.get(piece) ?? false);
  }

  /** Whether this peer's extension table names `name` (BEP 10 `m`), and its id for us to send. */
  extensionId(name: string): number | undefined {
    return this.extended?.m.get(name);
  }
}
