import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * One hardened node:http server for the tracker and the index: the limits that keep a few
 * hostile clients from starving everyone else are enforced here, before any handler runs.
 *
 *  - Connections: at most `maxConnectionsPerAddress` per remote address (an IPv6 /64 counts as
 *    one address) and `maxConnections` in all. At the total cap the connection that has been
 *    idle longest (no request in progress: a slowloris socket, or a kept-alive one) is closed to
 *    make room; only when every connection is busy is the newcomer refused. So many idle
 *    sockets from many addresses cannot lock out a client that sends a request.
 *  - Deadlines: the header block within `headersTimeoutMs`, the whole request (headers and
 *    body) within `requestTimeoutMs`, an idle kept-alive connection closed after
 *    `keepAliveTimeoutMs`. Node checks its two request deadlines only every
 *    `connectionsCheckingInterval` (30 s by default, which is why a 5 s header timeout let
 *    sockets live 30 s); we set it to `checkIntervalMs`.
 *  - Half-open sockets: Node answers a timed-out request with a 408 and ends its side, but
 *    keeps the socket until the client ends too (http servers allow half-open sockets). A
 *    socket whose writable side has ended is destroyed `lingerMs` later, whoever ended it.
 *  - Bodies: a declared Content-Length above `maxBodyBytes` gets 413 at once. Every body
 *    reserves its declared length (a chunked body: `maxBodyBytes`) from a budget shared by
 *    all unfinished requests (`maxPendingBodyBytes`) and one per address
 *    (`maxPendingBodyBytesPerAddress`) until its response is done; beyond it, 503. So a
 *    thousand half-sent bodies hold at most the budget, not a thousand times the body limit.
 *    Handlers must still stop reading a chunked body at `maxBodyBytes`.
 *
 * All of the timing runs on one coarse interval (every `checkIntervalMs`) over maps kept in
 * idle-since order, so a sweep costs O(sockets it closes), not O(connections).
 */
export interface HttpGuardLimits {
  /** Connections held at once (default 10,000). */
  readonly maxConnections?: number;
  /** Connections per remote address, IPv6 per /64 (default 64). */
  readonly maxConnectionsPerAddress?: number;
  /** Default 5 s. */
  readonly headersTimeoutMs?: number;
  /** Headers and body of one request (default 15 s). */
  readonly requestTimeoutMs?: number;
  /** Default 5 s. */
  readonly keepAliveTimeoutMs?: number;
  /** How often deadlines are checked (default 500 ms). */
  readonly checkIntervalMs?: number;
  /** How long a socket we have ended may wait for the client's end (default 1 s). */
  readonly lingerMs?: number;
  /** Request line plus headers (default 16 KiB). */
  readonly maxHeaderBytes?: number;
  /** Default 100. */
  readonly maxHeadersCount?: number;
  /** One request body (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Body bytes all unfinished requests may reserve together (default 16 MiB). */
  readonly maxPendingBodyBytes?: number;
  /** Body bytes the unfinished requests of one address may reserve (default 2 MiB). */
  readonly maxPendingBodyBytesPerAddress?: number;
  /** The body of a 413/503 the guard sends itself (default: plain text). */
  readonly renderRejection?: (rejection: GuardRejection) => { contentType: string; body: string };
}

/** Why the guard answered a request itself; `code` is stable. */
export interface GuardRejection {
  readonly status: 413 | 503;
  readonly code: 'BODY_TOO_LARGE' | 'BUSY';
  readonly message: string;
}

export interface HttpGuardStats {
  readonly connections: number;
  /** Connections refused at the per-address cap. */
  readonly refusedPerAddress: number;
  /** Connections refused at the total cap with nothing idle to close. */
  readonly refusedTotal: number;
  /** Idle connections closed to make room for a new one. */
  readonly evictedIdle: number;
  /** Connections closed for being idle (kept alive, or never completing a header block). */
  readonly closedIdle: number;
  /** Sockets destroyed after lingering half-closed. */
  readonly closedLingering: number;
  readonly rejectedBodies: number;
  /** Body bytes reserved by unfinished requests right now. */
  readonly pendingBodyBytes: number;
}

export interface GuardedServer {
  readonly server: Server;
  stats(): HttpGuardStats;
}

export const HTTP_GUARD_DEFAULTS = {
  maxConnections: 10_000,
  maxConnectionsPerAddress: 64,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5000,
  checkIntervalMs: 500,
  lingerMs: 1000,
  maxHeaderBytes: 16 * 1024,
  maxHeadersCount: 100,
  maxBodyBytes: 1024 * 1024,
  maxPendingBodyBytes: 16 * 1024 * 1024,
  maxPendingBodyBytesPerAddress: 2 * 1024 * 1024,
} as const;

type Limits = Required<Omit<HttpGuardLimits, 'renderRejection'>> & Pick<HttpGuardLimits, 'renderRejection'>;

interface Conn {
  readonly key: string;
  inFlight: number;
  hasServed: boolean;
}

/**
 * The address a connection counts against: IPv4-mapped IPv6 as IPv4, other IPv6 by its /64
 * (one subscriber gets a whole /64, so per-address limits on full IPv6 addresses are void).
 */
export function addressKey(remote: string | undefined): string {
  if (remote === undefined) return '?';
  const ip = remote.split('%')[0]!.toLowerCase();
  if (ip.startsWith('::ffff:') && ip.includes('.')) return ip.slice(7);
  if (!ip.includes(':')) return ip;
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}

function resolveLimits(l: HttpGuardLimits): Limits {
  const o = { ...HTTP_GUARD_DEFAULTS, ...l } as Limits;
  if (o.headersTimeoutMs > o.requestTimeoutMs) throw new RangeError('headersTimeoutMs > requestTimeoutMs');
  return o;
}

/** A node:http server with the guard's limits around `handler`. Call `listen` as usual. */
export function createGuardedServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  limits: HttpGuardLimits = {},
): GuardedServer {
  const o = resolveLimits(limits);
  const conns = new Map<Socket, Conn>();
  const perAddress = new Map<string, number>();
  /** Sockets with no request in progress, in idle-since order (value: since, ms). */
  const idle = new Map<Socket, number>();
  /** Sockets whose writable side has ended, in order (value: when, ms). */
  const ending = new Map<Socket, number>();
  const pendingByAddress = new Map<string, number>();
  let pendingBody = 0;
  const counts = {
    refusedPerAddress: 0,
    refusedTotal: 0,
    evictedIdle: 0,
    closedIdle: 0,
    closedLingering: 0,
    rejectedBodies: 0,
  };

  const server = createServer(
    {
      maxHeaderSize: o.maxHeaderBytes,
      headersTimeout: o.headersTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      keepAliveTimeout: o.keepAliveTimeoutMs,
      connectionsCheckingInterval: o.checkIntervalMs,
    },
    (req, res) => onRequest(req, res),
  );
  server.maxHeadersCount = o.maxHeadersCount;

  const setIdle = (socket: Socket): void => {
    idle.delete(socket);
    idle.set(socket, Date.now());
  };

  server.on('connection', (socket: Socket) => {
    const key = addressKey(socket.remoteAddress);
    const n = perAddress.get(key) ?? 0;
    if (n >= o.maxConnectionsPerAddress) {
      counts.refusedPerAddress++;
      socket.destroy();
      return;
    }
    if (conns.size >= o.maxConnections && !evictIdle()) {
      counts.refusedTotal++;
      socket.destroy();
      return;
    }
    perAddress.set(key, n + 1);
    conns.set(socket, { key, inFlight: 0, hasServed: false });
    setIdle(socket);
    socket.once('finish', () => ending.set(socket, Date.now()));
    socket.once('close', () => {
      conns.delete(socket);
      idle.delete(socket);
      ending.delete(socket);
      const left = (perAddress.get(key) ?? 1) - 1;
      if (left <= 0) perAddress.delete(key);
      else perAddress.set(key, left);
    });
  });

  /** Close the connection idle longest; false if none is idle. */
  const evictIdle = (): boolean => {
    const oldest = idle.keys().next().value;
    if (oldest === undefined) return false;
    idle.delete(oldest);
    counts.evictedIdle++;
    oldest.destroy();
    return true;
  };

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
    // Ending our side starts the linger clock (the 'finish' listener above).
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    const conn = conns.get(socket);
    if (conn !== undefined) {
      conn.inFlight++;
      idle.delete(socket);
      res.once('close', () => {
        conn.inFlight--;
        conn.hasServed = true;
        if (conn.inFlight === 0 && !socket.destroyed) setIdle(socket);
      });
    }
    const key = conn?.key ?? addressKey(socket.remoteAddress);
    const reserved = reserveBody(req, key);
    if (typeof reserved !== 'number') {
      counts.rejectedBodies++;
      reject(res, reserved);
      return;
    }
    if (reserved > 0) {
      res.once('close', () => {
        pendingBody -= reserved;
        const left = (pendingByAddress.get(key) ?? reserved) - reserved;
        if (left <= 0) pendingByAddress.delete(key);
        else pendingByAddress.set(key, left);
      });
    }
    handler(req, res);
  };

  /** Reserve the body's bytes, or say why not. Returns the bytes reserved. */
  const reserveBody = (req: IncomingMessage, key: string): number | GuardRejection => {
    const length = req.headers['content-length'];
    const isChunked = req.headers['transfer-encoding'] !== undefined;
    const declared = length === undefined ? (isChunked ? o.maxBodyBytes : 0) : Number(length);
    if (!(declared <= o.maxBodyBytes)) {
      return {
        status: 413,
        code: 'BODY_TOO_LARGE',
        message: `the body is larger than ${o.maxBodyBytes} bytes`,
      };
    }
    if (declared === 0) return 0;
    const mine = pendingByAddress.get(key) ?? 0;
    if (pendingBody + declared > o.maxPendingBodyBytes || mine + declared > o.maxPendingBodyBytesPerAddress) {
      return { status: 503, code: 'BUSY', message: 'too many unfinished request bodies; retry shortly' };
    }
    pendingBody += declared;
    pendingByAddress.set(key, mine + declared);
    return declared;
  };

  const reject = (res: ServerResponse, r: GuardRejection): void => {
    const rendered = o.renderRejection?.(r) ?? {
      contentType: 'text/plain; charset=utf-8',
      body: `${r.message}\n`,
    };
    res.writeHead(r.status, {
      'content-type': rendered.contentType,
      'content-length': Buffer.byteLength(rendered.body),
      connection: 'close',
      ...(r.status === 503 ? { 'retry-after': '1' } : {}),
    });
    res.end(rendered.body);
  };

  /**
   * Close sockets idle too long (kept alive after a response: `keepAliveTimeoutMs`; never sent
   * a complete header block: `headersTimeoutMs`, as Node would, should its check be late) and
   * destroy lingering half-closed ones. Both maps are in time order, so each loop stops at the
   * first socket that is not yet due.
   */
  const sweep = (): void => {
    const now = Date.now();
    // Node's own header check (which answers 408) gets one interval's head start.
    const headerDeadline = o.headersTimeoutMs + o.checkIntervalMs;
    const soonest = Math.min(o.keepAliveTimeoutMs, headerDeadline);
    for (const [socket, since] of idle) {
      if (now - since < soonest) break;
      const limit = conns.get(socket)?.hasServed === true ? o.keepAliveTimeoutMs : headerDeadline;
      if (now - since < limit) continue;
      idle.delete(socket);
      counts.closedIdle++;
      socket.end();
    }
    for (const [socket, at] of ending) {
      if (now - at < o.lingerMs) break;
      ending.delete(socket);
      counts.closedLingering++;
      socket.destroy();
    }
  };
  const ticker = setInterval(sweep, o.checkIntervalMs);
  ticker.unref();
  server.once('close', () => clearInterval(ticker));

  return {
    server,
    stats: () => ({
      connections: conns.size,
      ...counts,
      pendingBodyBytes: pendingBody,
    }),
  };
}
