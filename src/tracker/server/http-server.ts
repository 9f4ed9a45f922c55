import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGuardedServer, type HttpGuardLimits, type HttpGuardStats } from '../../net/http-guard.js';
import type { HttpTrackerHandler } from './http-handler.js';

/**
 * The HTTP transport: node:http in, {@link HttpTrackerHandler} decides, bytes out. The limits
 * that protect the tracker from slow or numerous clients (connections per address and in all,
 * header/request/keep-alive deadlines, half-open sockets, body bytes) are the shared HTTP
 * guard's (`src/net/http-guard.ts`), set before any handler runs. Tracker requests are GETs, so
 * a body is capped at 1 KiB and never read.
 */
export interface HttpTransportOptions {
  readonly host: string;
  readonly port: number;
  /** Guard limits (connection caps, deadlines); the defaults suit a public tracker. */
  readonly limits?: HttpGuardLimits;
  readonly onError?: (err: Error) => void;
}

export interface HttpTransport {
  readonly host: string;
  readonly port: number;
  guardStats(): HttpGuardStats;
  /** Stop accepting, drop keep-alive connections, resolve when closed. */
  close(): Promise<void>;
}

/** Tracker defaults: short deadlines (an announce is one small GET), tiny bodies. */
export const TRACKER_HTTP_LIMITS: HttpGuardLimits = {
  maxConnections: 10_000,
  maxConnectionsPerAddress: 64,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 1024,
  maxPendingBodyBytes: 1024 * 1024,
  maxPendingBodyBytesPerAddress: 64 * 1024,
};

export function listenHttp(
  handler: HttpTrackerHandler,
  options: HttpTransportOptions,
): Promise<HttpTransport> {
  const onError = options.onError ?? (() => {});
  const guarded = createGuardedServer(
    (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      let reply: ReturnType<HttpTrackerHandler['handle']>;
      try {
        reply = handler.handle(req.method ?? 'GET', req.url ?? '/', req.socket.remoteAddress ?? '0.0.0.0');
      } catch (err) {
        onError(err instanceof Error ? err : new Error(String(err)));
        res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
        return;
      }
      res.writeHead(reply.status, {
        'content-type': reply.contentType,
        'content-length': reply.body.length,
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : reply.body);
    },
    { ...TRACKER_HTTP_LIMITS, ...options.limits },
  );
  const server = guarded.server;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      server.on('error', onError);
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : options.port;
      resolve({
        host: options.host,
        port,
        guardStats: guarded.stats,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
