import { NetError } from './tcp.js';
import { bindUdp, type UdpRemote } from './udp.js';

/**
 * One UDP port for everything the engine speaks over UDP, as libtorrent and Transmission do:
 * the DHT (BEP 5 KRPC), replies from UDP trackers (BEP 15) and, later, uTP (BEP 29) share the
 * session's listen port, one socket per address family. The mux only looks at the first bytes
 * of a datagram to decide whose it is; it never parses a protocol.
 *
 *   kind      how it is recognised                                  routed to
 *   krpc      first byte `d` (a bencoded dictionary)                the one `krpc` handler
 *   tracker   ≥ 8 bytes, big-endian u32 action 0..3 (connect,       the tracker handler whose
 *             announce, scrape, error), u32 transaction id at 4     `ownsTransaction(tid)` is true
 *   utp       ≥ 20 bytes, first byte: low nibble version 1,         the one `utp` handler
 *             high nibble type 0..4
 *
 * The three patterns are disjoint on the first byte (`0x00`, `0x?1`, `0x64`). A datagram that
 * matches none, that is larger than `maxDatagramBytes`, whose kind has no handler, or (tracker)
 * whose transaction id is not one of ours, is counted in `stats()` and dropped: a spoofer cannot
 * feed a tracker answer we did not ask for, and a scanner's junk costs one counter increment.
 *
 * The sockets are `DatagramSocket`s, so the simulations hand the mux in-memory ones and run the
 * DHT and UDP trackers of many sessions in one process on virtual time.
 */

/** What the mux needs from a socket: the real adapter (`bindUdp`) and in-memory ones implement it. */
export interface DatagramSocket {
  /** Fire-and-forget; `host` is an IP literal of this socket's family. */
  send(bytes: Uint8Array, host: string, port: number): void;
  /** One callback; a later call replaces it. */
  onMessage(cb: (bytes: Uint8Array, from: UdpRemote) => void): void;
  /** Socket-level errors (send failures, ICMP unreachable…), if the socket reports any. */
  onError?(cb: (err: Error) => void): void;
  address(): { host: string; port: number; family: 'IPv4' | 'IPv6' };
  close(): Promise<void>;
}

export type DatagramKind = 'krpc' | 'tracker' | 'utp';

/** Send from the mux's socket of the destination's family; false if there is none (or closed). */
export type DatagramSend = (bytes: Uint8Array, host: string, port: number) => boolean;

/** Receives the datagrams of one kind. Plain callback: this is the hot path. */
export type DatagramHandler = (bytes: Uint8Array, from: UdpRemote, send: DatagramSend) => void;

/** Tracker handlers claim the replies to their own requests (BEP 15 transaction ids). */
export interface TrackerRoute {
  ownsTransaction(transactionId: number): boolean;
}

export interface MuxRegistration {
  readonly send: DatagramSend;
  /** Stop receiving; later datagrams of this kind are counted as unhandled. Idempotent. */
  unregister(): void;
}

export interface UdpMuxStats {
  /** Datagrams handed to a handler, per kind. */
  readonly delivered: Readonly<Record<DatagramKind, number>>;
  /**
   * Datagrams dropped: per kind when no handler took them (for `tracker`: no pending
   * transaction with that id), `unknown` when they match no kind, `oversized` over the limit.
   */
  readonly dropped: Readonly<Record<DatagramKind | 'unknown' | 'oversized', number>>;
  /** Handlers that threw (the mux keeps serving). */
  readonly handlerErrors: number;
  readonly sent: number;
  /** Sends with no socket for the destination's family, or after `close()`. */
  readonly unsendable: number;
}

export interface UdpMuxOptions {
  /** Larger datagrams are dropped before classification (default `MUX_MAX_DATAGRAM_BYTES`). */
  maxDatagramBytes?: number;
  /** Socket errors and handler exceptions; the mux keeps serving. */
  onError?: (err: Error) => void;
}

export interface BindUdpMuxOptions extends UdpMuxOptions {
  /** The session's TCP listen port; 0 = any free port (the same one for both families). */
  port: number;
  /** Default both: dual stack, two sockets (the IPv6 one is v6-only). */
  families?: readonly (4 | 6)[];
  /** Default `0.0.0.0`. */
  host4?: string;
  /** Default `::`. */
  host6?: string;
  /** Kernel receive buffer per socket, if set (a busy DHT node wants a few MiB). */
  recvBufferBytes?: number;
}

/**
 * No protocol we route sends more: KRPC and uTP stay within a path MTU, and a BEP 15 announce
 * reply for our `num_want` of 50 IPv6 peers is 920 bytes.
 */
export const MUX_MAX_DATAGRAM_BYTES = 8192;
const UTP_HEADER_BYTES = 20;
const BENCODE_DICT = 0x64; // 'd'
/** Port-0 binds retried when the free IPv4 port is taken for IPv6. */
const PORT_PICK_ATTEMPTS = 8;

/** Which kind a datagram is, from its first bytes only; null = none we speak. */
export function classifyDatagram(bytes: Uint8Array): DatagramKind | null {
  const first = bytes[0];
  if (first === undefined) return null;
  if (first === BENCODE_DICT) return 'krpc';
  // BEP 15 responses: u32 action, big-endian, 0 connect · 1 announce · 2 scrape · 3 error.
  if (bytes.length >= 8 && first === 0 && bytes[1] === 0 && bytes[2] === 0 && bytes[3]! <= 3)
    return 'tracker';
  // BEP 29: type (ST_DATA 0 … ST_SYN 4) in the high nibble, version 1 in the low nibble.
  if (bytes.length >= UTP_HEADER_BYTES && (first & 0x0f) === 1 && first >> 4 <= 4) return 'utp';
  return null;
}

/** BEP 15: the transaction id of a response, bytes 4..8 big-endian. Needs ≥ 8 bytes. */
export function trackerTransactionId(bytes: Uint8Array): number {
  return ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0;
}

interface TrackerEntry {
  readonly handler: DatagramHandler;
  readonly route: TrackerRoute;
}

function counters<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

export class UdpMux {
  private readonly sockets = new Map<4 | 6, DatagramSocket>();
  /** Read once: a closed socket cannot tell its address any more. */
  readonly port: number;
  private readonly single = new Map<'krpc' | 'utp', DatagramHandler>();
  /** Usually one (the session's UDP tracker transport); a few at most, so a list is fine. */
  private readonly trackers: TrackerEntry[] = [];
  private readonly maxBytes: number;
  private readonly delivered = counters<DatagramKind>(['krpc', 'tracker', 'utp']);
  private readonly dropped = counters<DatagramKind | 'unknown' | 'oversized'>([
    'krpc',
    'tracker',
    'utp',
    'unknown',
    'oversized',
  ]);
  private handlerErrors = 0;
  private sent = 0;
  private unsendable = 0;
  private isClosed = false;
  private readonly sendBound: DatagramSend = (bytes, host, port) => this.send(bytes, host, port);

  /**
   * Serve datagrams from these sockets (at most one per family); the mux owns them and closes
   * them on `close()`. For real sockets use `UdpMux.bind`.
   */
  constructor(
    sockets: readonly DatagramSocket[],
    private readonly options: UdpMuxOptions = {},
  ) {
    if (sockets.length === 0) throw new Error('UdpMux needs at least one socket');
    this.maxBytes = options.maxDatagramBytes ?? MUX_MAX_DATAGRAM_BYTES;
    // The bound port, the same for every family when `bind` made the sockets.
    this.port = sockets[0]!.address().port;
    for (const socket of sockets) {
      const family = socket.address().family === 'IPv6' ? 6 : 4;
      if (this.sockets.has(family)) throw new Error(`UdpMux got two IPv${family} sockets`);
      this.sockets.set(family, socket);
      socket.onMessage((bytes, from) => this.receive(bytes, from));
      socket.onError?.((err) => this.report(err));
    }
  }

  /**
   * Bind the port for each family. Resolves once at least one family is bound; a family that
   * cannot be bound (no IPv6 on the host, the port taken for one family only) is reported
   * through `onError` and left out (`hasFamily` tells). Rejects with `NET_LISTEN_FAILED` when
   * none can be bound.
   */
  static async bind(options: BindUdpMuxOptions): Promise<UdpMux> {
    const families = options.families ?? [4, 6];
    const attempts = options.port === 0 && families.length > 1 ? PORT_PICK_ATTEMPTS : 1;
    let cause: unknown;
    for (let i = 0; i < attempts; i++) {
      const result = await bindFamilies(options, families);
      if (result.outcome === 'bound') {
        for (const err of result.errors) options.onError?.(err);
        return new UdpMux(result.sockets, options);
      }
      cause = result.cause;
      if (result.outcome === 'failed') break;
    }
    throw new NetError('NET_LISTEN_FAILED', `cannot bind UDP port ${options.port}`, { cause });
  }

  /** Whether a socket of this family is bound (a tracker or DHT node of the other family cannot be reached). */
  hasFamily(family: 4 | 6): boolean {
    return !this.isClosed && this.sockets.has(family);
  }

  /**
   * Receive the datagrams of `kind`. `krpc` and `utp` take one handler each (a second is a
   * programmer error); `tracker` takes several, each claiming its own transaction ids.
   */
  register(kind: 'krpc' | 'utp', handler: DatagramHandler): MuxRegistration;
  register(kind: 'tracker', handler: DatagramHandler, route: TrackerRoute): MuxRegistration;
  register(kind: DatagramKind, handler: DatagramHandler, route?: TrackerRoute): MuxRegistration {
    if (this.isClosed) throw new Error('UdpMux is closed');
    let unregister: () => void;
    if (kind === 'tracker') {
      if (!route) throw new Error('a tracker handler needs a TrackerRoute');
      const entry: TrackerEntry = { handler, route };
      this.trackers.push(entry);
      unregister = () => {
        const i = this.trackers.indexOf(entry);
        if (i >= 0) this.trackers.splice(i, 1);
      };
    } else {
      if (this.single.has(kind)) throw new Error(`a ${kind} handler is already registered`);
      this.single.set(kind, handler);
      unregister = () => {
        if (this.single.get(kind) === handler) this.single.delete(kind);
      };
    }
    return { send: this.sendBound, unregister };
  }

  /**
   * Send from the socket of the destination's family (`host` is an IP literal; a name goes out
   * over IPv4). False, and counted as unsendable, when that family has no socket.
   */
  send(bytes: Uint8Array, host: string, port: number): boolean {
    const socket = this.isClosed ? undefined : this.sockets.get(host.includes(':') ? 6 : 4);
    if (!socket) {
      this.unsendable++;
      return false;
    }
    this.sent++;
    socket.send(bytes, host, port);
    return true;
  }

  stats(): UdpMuxStats {
    return {
      delivered: { ...this.delivered },
      dropped: { ...this.dropped },
      handlerErrors: this.handlerErrors,
      sent: this.sent,
      unsendable: this.unsendable,
    };
  }

  /** Close every socket; handlers stay registered but receive nothing more. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await Promise.all([...this.sockets.values()].map((s) => s.close()));
  }

  private receive(bytes: Uint8Array, from: UdpRemote): void {
    if (this.isClosed) return;
    if (bytes.length > this.maxBytes) {
      this.dropped.oversized++;
      return;
    }
    const kind = classifyDatagram(bytes);
    if (kind === null) {
      this.dropped.unknown++;
      return;
    }
    const handler = kind === 'tracker' ? this.trackerFor(trackerTransactionId(bytes)) : this.single.get(kind);
    if (!handler) {
      this.dropped[kind]++;
      return;
    }
    this.delivered[kind]++;
    try {
      handler(bytes, from, this.sendBound);
    } catch (err) {
      this.handlerErrors++;
      this.report(err);
    }
  }

  private trackerFor(transactionId: number): DatagramHandler | undefined {
    for (const t of this.trackers) if (t.route.ownsTransaction(transactionId)) return t.handler;
    return undefined;
  }

  private report(err: unknown): void {
    try {
      this.options.onError?.(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // An error callback that throws must not take the mux down.
    }
  }
}

type BindResult =
  | { outcome: 'bound'; sockets: DatagramSocket[]; errors: Error[] }
  /** Port 0: the free port picked for the first family was taken for another; try again. */
  | { outcome: 'retry'; cause: unknown }
  | { outcome: 'failed'; cause: unknown };

async function bindFamilies(options: BindUdpMuxOptions, families: readonly (4 | 6)[]): Promise<BindResult> {
  const sockets: DatagramSocket[] = [];
  const errors: Error[] = [];
  let port = options.port;
  for (const family of families) {
    try {
      const socket = await bindUdp({
        type: family === 4 ? 'udp4' : 'udp6',
        host: family === 4 ? (options.host4 ?? '0.0.0.0') : (options.host6 ?? '::'),
        port,
        // The mux applies its own (counted) limit; the adapter only guards the absolute maximum.
        ...(options.recvBufferBytes === undefined ? {} : { recvBufferBytes: options.recvBufferBytes }),
      });
      sockets.push(socket);
      port = socket.address().port;
    } catch (err) {
      if (options.port === 0 && sockets.length > 0 && (err as { code?: unknown }).code === 'EADDRINUSE') {
        await Promise.all(sockets.map((s) => s.close()));
        return { outcome: 'retry', cause: err };
      }
      errors.push(
        new NetError('NET_LISTEN_FAILED', `cannot bind UDP${family === 4 ? '4' : '6'} port ${port}`, {
          cause: err,
        }),
      );
    }
  }
  if (sockets.length === 0) return { outcome: 'failed', cause: errors[0] ?? new Error('no family to bind') };
  return { outcome: 'bound', sockets, errors };
}
