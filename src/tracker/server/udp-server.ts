import { bindUdp } from '../../net/udp.js';
import { UDP_MAX_REQUEST_BYTES } from '../protocol/udp.js';
import type { UdpTrackerHandler } from './udp-handler.js';

/**
 * The UDP transport: the shared adapter (`src/net/udp.ts`) delivers datagrams, the handler
 * answers, the reply goes back to the source. Oversized datagrams are dropped by the adapter
 * before the handler sees them.
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
  const socket = await bindUdp({
    type: options.host.includes(':') ? 'udp6' : 'udp4',
    host: options.host,
    port: options.port,
    maxDatagramBytes: UDP_MAX_REQUEST_BYTES,
    recvBufferBytes: options.recvBufferBytes ?? 4 * 1024 * 1024,
  });
  if (options.onError) socket.onError(options.onError);
  socket.onMessage((bytes, from) => {
    const reply = handler.handle(bytes, from);
    if (reply !== null) socket.send(reply, from.host, from.port);
  });
  return { host: options.host, port: socket.address().port, close: () => socket.close() };
}
