import { bindUdpReplySocket } from '../../net/udp-reply.js';
import { UDP_MAX_REQUEST_BYTES } from '../protocol/udp.js';
import { UDP_REPLY_BUFFER_BYTES, type UdpTrackerHandler } from './udp-handler.js';

/**
 * The UDP transport: the reply socket (`src/net/udp-reply.ts`) delivers datagrams, the
 * handler writes its answer into the socket's reused reply buffer, the socket sends it back
 * to the source without a callback. Oversized datagrams are dropped before the handler.
 */
export interface UdpTransportOptions {
  readonly host: string;
  readonly port: number;
  readonly onError?: (err: Error) => void;
  /** Kernel receive buffer (default 4 MiB) so bursts are not dropped while we work. */
  readonly recvBufferBytes?: number;
}

export interface UdpTransport {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function listenUdp(
  handler: UdpTrackerHandler,
  options: UdpTransportOptions,
): Promise<UdpTransport> {
  const socket = await bindUdpReplySocket(
    {
      type: options.host.includes(':') ? 'udp6' : 'udp4',
      host: options.host,
      port: options.port,
      maxDatagramBytes: UDP_MAX_REQUEST_BYTES,
      replyBytes: UDP_REPLY_BUFFER_BYTES,
      recvBufferBytes: options.recvBufferBytes ?? 4 * 1024 * 1024,
    },
    (datagram, host, port, reply) => handler.handleInto(datagram, host, port, reply),
  );
  if (options.onError) socket.onError(options.onError);
  return { host: options.host, port: socket.port, close: () => socket.close() };
}
