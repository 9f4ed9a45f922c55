/**
 * The `Transport` of a memory-network host: dialing (a handshake timed by the link latency,
 * with timeouts, refusals and aborts) and listening. Split out of `memory-network.ts`; it sees
 * the network through `DialNetwork` so that module can import this one without a cycle.
 */
import type { CancelTimer, Scheduler } from '../util/clock.js';
import { type HostState, type MemoryConnection, resetError } from './memory-connection.js';
import { NetError } from './tcp.js';
import type { Connection, DialRequest, Listener, Transport, TransportAddress } from './transport.js';

/** What dialing needs from the network: the clock, the link model, and pairing of ends. */
export interface DialNetwork {
  readonly scheduler: Scheduler;
  isReachable(a: string, b: string): boolean;
  link(a: string, b: string): { readonly latencyMs: number };
  hostOf(ip: string): HostState | undefined;
  pair(
    client: HostState,
    clientPort: number,
    server: HostState,
    serverPort: number,
  ): { client: MemoryConnection; server: MemoryConnection };
  accept(server: MemoryConnection, onConnection: (connection: Connection) => void): void;
  dialFailed(): void;
}

const DEFAULT_DIAL_TIMEOUT_MS = 10_000;

export class MemoryTransport implements Transport {
  readonly name = 'memory';
  private listener: Listener | null = null;

  constructor(
    private readonly net: DialNetwork,
    private readonly host: HostState,
    private readonly port: number,
  ) {}

  dial(address: TransportAddress, request: DialRequest = {}): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const net = this.net;
      const s = net.scheduler;
      const target = `${address.host}:${address.port}`;
      if (request.signal?.aborted) {
        reject(new NetError('NET_ABORTED', `dial ${target} aborted`));
        return;
      }
      const timers: CancelTimer[] = [];
      let isDone = false;
      const done = (settle: () => void): void => {
        if (isDone) return;
        isDone = true;
        for (const cancel of timers) cancel();
        request.signal?.removeEventListener('abort', onAbort);
        settle();
      };
      const fail = (err: NetError) =>
        done(() => {
          net.dialFailed();
          reject(err);
        });
      const onAbort = () => fail(new NetError('NET_ABORTED', `dial ${target} aborted`));
      request.signal?.addEventListener('abort', onAbort, { once: true });
      timers.push(
        s.setTimer(request.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS, () =>
          fail(new NetError('NET_DIAL_TIMEOUT', `dial ${target} timed out`)),
        ),
      );
      if (!net.isReachable(this.host.ip, address.host)) return; // the SYN is lost: time out
      const latencyMs = net.link(this.host.ip, address.host).latencyMs;
      // SYN arrives at the server after one latency; SYN-ACK (or RST) returns after another.
      timers.push(
        s.setTimer(latencyMs, () => {
          const server = net.hostOf(address.host);
          const onConnection = server?.listeners.get(address.port);
          if (server === undefined || onConnection === undefined) {
            timers.push(
              s.setTimer(latencyMs, () =>
                fail(new NetError('NET_DIAL_FAILED', `dial ${target}: connection refused`)),
              ),
            );
            return;
          }
          timers.push(
            s.setTimer(latencyMs, () => {
              if (isDone) return;
              const { client, server: end } = net.pair(
                this.host,
                this.host.nextEphemeralPort++,
                server,
                address.port,
              );
              done(() => resolve(client));
              // The server accepts when the handshake's last ACK arrives, one latency later.
              s.setTimer(latencyMs, () => {
                if (end.hasFinished) return;
                const current = server.listeners.get(address.port);
                if (current === undefined) end.destroy(resetError('listener closed'));
                else net.accept(end, current);
              });
            }),
          );
        }),
      );
    });
  }

  async listen(onConnection: (connection: Connection) => void): Promise<Listener> {
    if (this.listener) return this.listener;
    let port = this.port;
    if (port === 0) {
      while (this.host.listeners.has(this.host.nextListenPort)) this.host.nextListenPort++;
      port = this.host.nextListenPort++;
    }
    if (this.host.listeners.has(port))
      throw new NetError('NET_LISTEN_FAILED', `listen on ${this.host.ip}:${port}: address in use`);
    this.host.listeners.set(port, onConnection);
    const host = this.host;
    this.listener = {
      host: host.ip,
      port,
      close: async () => {
        if (host.listeners.get(port) === onConnection) host.listeners.delete(port);
      },
    };
    return this.listener;
  }

  async close(): Promise<void> {
    const listener = this.listener;
    this.listener = null;
    await listener?.close();
  }
}
