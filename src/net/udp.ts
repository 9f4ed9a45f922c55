import { createSocket } from 'node:dgram';

/**
 * The thin UDP adapter shared by the tracker client, the tracker server and the DHT. Protocol
 * cores never see a socket: they get `(bytes, from)` and call `send`. Errors become events,
 * never uncaught exceptions; a handler that throws is reported the same way and the socket
 * keeps serving.
 */

export interface UdpRemote {
  readonly host: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

export interface UdpSocket {
  /** Fire-and-forget; delivery problems arrive through `onError`. `host` may be a DNS name. */
  send(bytes: Uint8Array, host: string, port: number): void;
  /** One handler; a later call replaces it. */
  onMessage(cb: (bytes: Uint8Array, from: UdpRemote) => void): void;
  onError(cb: (err: Error) => void): void;
  address(): { host: string; port: number; family: 'IPv4' | 'IPv6' };
  close(): Promise<void>;
  readonly type: 'udp4' | 'udp6';
}

export interface BindUdpOptions {
  host?: string;
  /** 0 = any free port. */
  port?: number;
  type: 'udp4' | 'udp6';
  /** Datagrams larger than this are dropped before any handler runs (default 65,507). */
  maxDatagramBytes?: number;
  /** Datagrams processed per second at most; excess is dropped (default unlimited). */
  maxDatagramsPerSecond?: number;
  /** Kernel receive buffer size, if set. */
  recvBufferBytes?: number;
}

/** Bind a UDP socket; resolves once it is listening. */
export function bindUdp(options: BindUdpOptions): Promise<UdpSocket> {
  const socket = createSocket({ type: options.type, ipv6Only: options.type === 'udp6' });
  const maxBytes = options.maxDatagramBytes ?? 65_507;
  const maxPerSecond = options.maxDatagramsPerSecond ?? Number.POSITIVE_INFINITY;
  let onMessage: (bytes: Uint8Array, from: UdpRemote) => void = () => {};
  let onError: (err: Error) => void = () => {};
  let windowStart = 0;
  let windowCount = 0;
  let closed = false;

  const report = (err: unknown): void => {
    try {
      onError(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // An error handler that throws must not take the socket down.
    }
  };

  socket.on('message', (msg, rinfo) => {
    if (msg.length > maxBytes) return;
    if (maxPerSecond !== Number.POSITIVE_INFINITY) {
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        windowCount = 0;
      }
      if (++windowCount > maxPerSecond) return;
    }
    try {
      onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), {
        host: rinfo.address,
        port: rinfo.port,
        family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4',
      });
    } catch (err) {
      report(err);
    }
  });
  socket.on('error', report);

  const api: UdpSocket = {
    type: options.type,
    send(bytes, host, port) {
      if (closed) return;
      socket.send(bytes, port, host, (err) => {
        if (err) report(err);
      });
    },
    onMessage(cb) {
      onMessage = cb;
    },
    onError(cb) {
      onError = cb;
    },
    address() {
      const a = socket.address();
      return { host: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };

  return new Promise((resolve, reject) => {
    const onBindError = (err: Error): void => reject(err);
    socket.once('error', onBindError);
    socket.bind(
      { port: options.port ?? 0, address: options.host ?? (options.type === 'udp6' ? '::' : '0.0.0.0') },
      () => {
        socket.off('error', onBindError);
        if (options.recvBufferBytes !== undefined) {
          try {
            socket.setRecvBufferSize(options.recvBufferBytes);
          } catch (err) {
            report(err);
          }
        }
        resolve(api);
      },
    );
  });
}
