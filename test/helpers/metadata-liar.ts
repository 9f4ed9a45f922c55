import { decodeExtendedHandshake, encodeExtendedHandshake } from '../../src/wire/extension.js';
import { METADATA_PIECE_BYTES } from '../../src/wire/limits.js';
import { MsgId } from '../../src/wire/messages.js';
import { decodeMetadataMessage, encodeMetadataMessage } from '../../src/wire/ut-metadata.js';
import { type HostileListener, HostilePeer } from './hostile-peer.js';

/**
 * A BEP 9 liar for magnet tests, on top of {@link HostilePeer}: it listens on 127.0.0.1, and to
 * every connection peerdrop makes it offers metadata (`ut_metadata` with a chosen
 * `metadata_size`) and answers each piece request with whatever `serve` returns — garbage, or a
 * well-formed info dictionary that hashes to something else.
 */

/** Our extended message id for ut_metadata (what peerdrop must use when it sends to us). */
const OUR_UT_METADATA_ID = 3;

export interface MetadataLiarOptions {
  /** The torrent's 20-byte handshake info-hash (the liar pretends to be in the swarm). */
  readonly infoHash: Uint8Array;
  /** The `metadata_size` claimed in the extended handshake and in every data message. */
  readonly metadataSize: number;
  /** The bytes sent for a requested metadata piece (its length must fit `metadataSize`). */
  readonly serve: (piece: number) => Uint8Array;
}

export class MetadataLiar {
  /** Piece requests peerdrop sent us, over all connections. */
  requests = 0;

  private constructor(readonly listener: HostileListener) {}

  static async start(options: MetadataLiarOptions): Promise<MetadataLiar> {
    let liar: MetadataLiar | null = null;
    const listener = await HostilePeer.listen({
      infoHash: options.infoHash,
      features: { extensions: true, fast: false, dht: false, v2: false },
      onPeer: (peer) => liar?.script(peer, options),
    });
    liar = new MetadataLiar(listener);
    return liar;
  }

  /** `127.0.0.1:port`, for a magnet's `x.pe`. */
  get address(): string {
    return this.listener.address;
  }

  get connections(): readonly HostilePeer[] {
    return this.listener.peers;
  }

  close(): Promise<void> {
    return this.listener.close();
  }

  private script(peer: HostilePeer, options: MetadataLiarOptions): void {
    peer.send({
      id: MsgId.Extended,
      extId: 0,
      payload: encodeExtendedHandshake({
        m: new Map([['ut_metadata', OUR_UT_METADATA_ID]]),
        metadataSize: options.metadataSize,
      }),
    });
    let theirId: number | null = null;
    let seen = 0;
    // HostilePeer records every message on 'data' before this listener runs (registered later).
    peer.socket.on('data', () => {
      for (; seen < peer.received.length; seen++) {
        const m = peer.received[seen]!.message;
        if (m.id !== MsgId.Extended) continue;
        if (m.extId === 0) {
          theirId = decodeExtendedHandshake(m.payload).m.get('ut_metadata') ?? null;
          continue;
        }
        if (m.extId !== OUR_UT_METADATA_ID || theirId === null) continue;
        const msg = decodeMetadataMessage(m.payload);
        if (msg.type !== 'request') continue;
        this.requests++;
        const data = options.serve(msg.piece);
        const payload = encodeMetadataMessage({
          type: 'data',
          piece: msg.piece,
          totalSize: options.metadataSize,
          data,
        });
        peer.send({ id: MsgId.Extended, extId: theirId, payload });
      }
    });
  }
}

/** Random bytes of the right length for each piece of `sizeBytes` (a new draw every time). */
export function garbageServer(sizeBytes: number, seed = 0xbad): (piece: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (piece) => {
    const out = new Uint8Array(Math.min(METADATA_PIECE_BYTES, sizeBytes - piece * METADATA_PIECE_BYTES));
    for (let i = 0; i < out.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  };
}

/** The pieces of `info` (e.g. a valid info dictionary of another torrent). */
export function bytesServer(info: Uint8Array): (piece: number) => Uint8Array {
  return (piece) => info.subarray(piece * METADATA_PIECE_BYTES, (piece + 1) * METADATA_PIECE_BYTES);
}
