import type { Metainfo } from '../metainfo/types.js';
import type { PeerAddress } from '../swarm/peer-book.js';
import { errorMessage } from '../util/errors.js';
import { LOCAL_EXTENSION_IDS } from '../wire/extension.js';
import { METADATA_PIECE_BYTES } from '../wire/limits.js';
import { decodeMetadataMessage, encodeMetadataMessage } from '../wire/ut-metadata.js';
import { decodePexMessage, encodePexMessage } from '../wire/ut-pex.js';
import type { PeerLink } from './peer-link.js';

/** BEP 11: send PEX at most once a minute per peer. */
export const PEX_INTERVAL_MS = 60_000;
const CLIENT_NAME = 'peerdrop 0.1.0';

const WITHOUT_PEX: ReadonlyMap<string, number> = new Map(
  [...LOCAL_EXTENSION_IDS].filter(([name]) => name !== 'ut_pex'),
);

/**
 * The `m` of our extended handshake: `ut_pex` only when we exchange peers for this torrent
 * (not with `--no-pex`, never for a private one, BEP 27), so a peer does not send us PEX we
 * would ignore, nor count on PEX from us. `isPrivate` is undefined in the magnet phase.
 */
export function localExtensionIds(
  isPexEnabled: boolean,
  isPrivate: boolean | undefined,
): ReadonlyMap<string, number> {
  return isPexEnabled && isPrivate !== true ? LOCAL_EXTENSION_IDS : WITHOUT_PEX;
}

/**
 * BEP 10 extensions of a torrent whose metadata we have: the extended handshake, serving
 * `ut_metadata` pieces (BEP 9) to peers that arrived by magnet link, and `ut_pex` (BEP 11)
 * both ways. Private torrents (BEP 27) never exchange peers.
 */
export class TorrentExtensions {
  constructor(
    private readonly metainfo: Metainfo,
    private readonly listenPort: number,
    private readonly onPexPeers: (link: PeerLink, peers: readonly PeerAddress[]) => void,
    /** False with `--no-pex`; private torrents (BEP 27) never exchange peers either way. */
    private readonly pexEnabled = true,
  ) {}

  /** Peers that have had their first PEX message (until then it is tried on every tick). */
  private readonly pexStarted = new WeakSet<PeerLink>();

  private get usesPex(): boolean {
    return this.pexEnabled && !this.metainfo.isPrivate;
  }

  /** Fields of our BEP 10 handshake for this torrent (the wire layer adds `m` and `reqq`). */
  handshakeFields(remoteHost: string): {
    metadataSize: number;
    listenPort: number;
    client: string;
    yourIp: string;
  } {
    return {
      metadataSize: this.metainfo.infoBytes.length,
      listenPort: this.listenPort,
      client: CLIENT_NAME,
      yourIp: remoteHost,
    };
  }

  onExtension(link: PeerLink, name: string, payload: Uint8Array): void {
    try {
      if (name === 'ut_metadata') this.onMetadata(link, payload);
      else if (name === 'ut_pex' && this.usesPex) this.onPex(link, payload);
    } catch (err) {
      link.channel.close(`bad extension message: ${errorMessage(err)}`);
    }
  }

  private onMetadata(link: PeerLink, payload: Uint8Array): void {
    const msg = decodeMetadataMessage(payload);
    if (msg.type !== 'request') return;
    const info = this.metainfo.infoBytes;
    const start = msg.piece * METADATA_PIECE_BYTES;
    const reply =
      start < info.length
        ? encodeMetadataMessage({
            type: 'data',
            piece: msg.piece,
            totalSize: info.length,
            data: info.subarray(start, start + METADATA_PIECE_BYTES),
          })
        : encodeMetadataMessage({ type: 'reject', piece: msg.piece });
    link.channel.sendExtension('ut_metadata', reply);
  }

  private onPex(link: PeerLink, payload: Uint8Array): void {
    const msg = decodePexMessage(payload);
    this.onPexPeers(
      link,
      msg.added.map((p) => ({ host: p.host, port: p.port })),
    );
  }

  /**
   * Tell `link` about the other peers we are connected to (added/dropped since last time).
   * The first message goes out on the first tick after its extended handshake that has a peer
   * to tell about (a new peer learns the swarm in a second, not after a minute); after that at
   * most one a minute (BEP 11).
   */
  maybeSendPex(link: PeerLink, all: Iterable<PeerLink>, nowMs: number): void {
    const theirId = link.extensionId('ut_pex');
    if (theirId === undefined || !this.usesPex) return;
    const isFirst = !this.pexStarted.has(link);
    if (!isFirst && nowMs - link.lastPexAtMs < PEX_INTERVAL_MS) return;
    if (!isFirst) link.lastPexAtMs = nowMs;
    const current = new Map<string, PeerAddress>();
    for (const other of all) {
      if (other === link) continue;
      const port = other.channel.isIncoming ? other.extended?.listenPort : other.channel.remotePort;
      if (port === undefined) continue;
      const a = { host: other.channel.remoteHost, port };
      current.set(`${a.host}|${a.port}`, a);
    }
    const added = [...current].filter(([k]) => !link.pexSent.has(k)).map(([, a]) => ({ ...a, flags: 0 }));
    const dropped = [...link.pexSent]
      .filter((k) => !current.has(k))
      .map((k) => {
        const [host, port] = k.split('|');
        return { host: host!, port: Number(port) };
      });
    if (added.length === 0 && dropped.length === 0) return;
    if (isFirst) {
      this.pexStarted.add(link);
      link.lastPexAtMs = nowMs;
    }
    const isInitial = link.pexSent.size === 0;
    const payload = encodePexMessage({ added, dropped }, { isInitial });
    for (const a of added) link.pexSent.add(`${a.host}|${a.port}`);
    for (const d of dropped) link.pexSent.delete(`${d.host}|${d.port}`);
    link.channel.sendExtension('ut_pex', payload);
  }
}
