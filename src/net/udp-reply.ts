import { createSocket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';

/**
 * A UDP server socket for request/reply protocols on the hot path (the UDP tracker): what
 * `bindUdp` (udp.ts) does, minus every per-datagram cost that is not the kernel's.
 *  - Replies go to the address a request came from, always an IP literal: the socket's lookup
 *    answers a literal at once (dgram's default lookup defers each send by a
 *    `process.nextTick`), so a send is one synchronous `sendmsg`.
 *  - Sends take no callback (a callback costs a tick and a closure per datagram); a failed
 *    send is counted in `sendErrors`, as a lost datagram would be.
 *  - The handler writes its reply into one reused buffer, `reply`; sending a prefix of it
 *    uses a view cached per length, so nothing is allocated per reply. If the kernel could not
 *    take a datagram at once (libuv queued it and still points at the buffer), the socket
 *    moves to a fresh buffer before the next reply overwrites the queued one.
 * Datagrams larger than `maxDatagramBytes` are dropped before the handler runs.
 */
export interface UdpReplyHandler {
  /** Write the reply to `datagram` into `reply` and return its length; 0 sends nothing. */
  (datagram: Buffer, host: string, port: number, reply: Buffer): number;
}

export interface UdpReplySocketOptions {
  readonly type: 'udp4' | 'udp6';
  readonly host: string;
  readonly port: number;
  readonly maxDatagramBytes: number;
  /** Size of the reply buffer: the largest reply the handler writes. */
  readonly replyBytes: number;
  readonly recvBufferBytes?: number;
  readonly sendBufferBytes?: number;
}

export interface UdpReplySocket {
  readonly port: number;
  /** Sends the kernel refused (the datagram is lost, as on the network). */
  readonly sendErrors: number;
  onError(cb: (err: Error) => void): void;
  close(): Promise<void>;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

export async function bindUdpReplySocket(
  options: UdpReplySocketOptions,
  handler: UdpReplyHandler,
): Promise<UdpReplySocket> {
  const family = options.type === 'udp6' ? 6 : 4;
  const lookup = (address: string, _opts: unknown, cb: LookupCallback): void => {
    if (isIP(address) !== 0) cb(null, address, family);
    else dnsLookup(address, family, cb);
  };
  const socket = createSocket({ type: options.type, ipv6Only: options.type === 'udp6', lookup });
  let onError: (err: Error) => void = () => {};
  let closed = false;
  let sendErrors = 0;
  let reply = Buffer.alloc(options.replyBytes);
  let views: Array<Buffer | undefined> = [];
  const viewOf = (n: number): Buffer => {
    let v = views[n];
    if (v === undefined) {
      v = reply.subarray(0, n);
      views[n] = v;
    }
    return v;
  };
  const report = (err: unknown): void => {
    try {
      onError(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // An error handler that throws must not take the socket down.
    }
  };
  const onDatagram = (msg: Buffer, rinfo: { address: string; port: number }): void => {
    if (msg.length > options.maxDatagramBytes || closed) return;
    let n: number;
    try {
      n = handler(msg, rinfo.address, rinfo.port, reply);
    } catch (err) {
      report(err);
      return;
    }
    if (n <= 0) return;
    try {
      socket.send(viewOf(n), rinfo.port, rinfo.address);
    } catch {
      sendErrors++;
      return;
    }
    if (socket.getSendQueueCount() > 0) {
      // libuv holds the datagram (and our buffer) until the socket is writable again.
      reply = Buffer.alloc(options.replyBytes);
      views = [];
    }
  };
  socket.on('message', onDatagram);
  socket.on('error', report);
  await new Promise<void>((resolve, reject) => {
    const onBindError = (err: Error): void => reject(err);
    socket.once('error', onBindError);
    socket.bind({ port: options.port, address: options.host }, () => {
      socket.off('error', onBindError);
      resolve();
    });
  });
  takeMessagesDirectly(socket, onDatagram, report);
  try {
    if (options.recvBufferBytes !== undefined) socket.setRecvBufferSize(options.recvBufferBytes);
    if (options.sendBufferBytes !== undefined) socket.setSendBufferSize(options.sendBufferBytes);
  } catch (err) {
    report(err);
  }
  return {
    port: socket.address().port,
    get sendErrors() {
      return sendErrors;
    },
    onError(cb) {
      onError = cb;
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/**
 * dgram hands each datagram from its handle to an EventEmitter `emit('message')`; on the
 * tracker's hot path that dispatch is a measurable share of a ~16 µs announce. Node 20 keeps
 * the handle under a symbol described `state symbol` and calls `handle.onmessage(nread,
 * handle, buf, rinfo)`: point that at the handler directly. If a Node version arranges this
 * differently, nothing is replaced and the `message` listener keeps working.
 */
function takeMessagesDirectly(
  socket: object,
  onDatagram: (msg: Buffer, rinfo: { address: string; port: number }) => void,
  report: (err: unknown) => void,
): void {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = sym === undefined ? undefined : (socket as Record<symbol, unknown>)[sym];
  const handle = (state as { handle?: { onmessage?: unknown } } | undefined)?.handle;
  if (handle === undefined || typeof handle.onmessage !== 'function') return;
  handle.onmessage = (
    nread: number,
    _handle: unknown,
    buf: Buffer,
    rinfo: { address: string; port: number },
  ) => {
    if (nread < 0) report(new Error(`recvmsg failed (${nread})`));
    else onDatagram(buf, rinfo);
  };
}
