import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { HttpTrackerHandler } from './http-handler.js';

/**
 * The HTTP transport: node:http in, {@link HttpTrackerHandler} decides, bytes out. Bounds are
 * set before any handler runs: header block (which holds the request line) ≤ 16 KiB,
 * connections ≤ `maxConnections`, slow clients cut off by header/request timeouts. Request
 * bodies are ignored (tracker requests are GETs).
 */
export interface HttpTransportOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConnections?: number;
  readonly onError?: (err: Error) => void;
}

export interface HttpTransport {
  readonly host: string;
  readonly port: number;
  /** Stop accepting, drop keep-alive connections, resolve when closed. */
  close(): Promise<void>;
}

export function listenHttp(
  handler: HttpTrackerHandler,
  options: HttpTransportOptions,
): Promise<HttpTransport> {
  const onError = options.onError ?? (() => {});
  const server = createServer(
    {
      maxHeaderSize: 16 * 1024,
      requestTimeout: 10_000,
      headersTimeout: 5_000,
      keepAliveTimeout: 5_000,
    },
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
  );
  server.maxConnections = options.maxConnections ?? 10_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
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
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
