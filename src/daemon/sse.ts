/**
 * Server-Sent Events at /api/events: `torrents` (the statuses that changed, once a second),
 * `added`, `removed`, and a comment every 15 s to keep proxies from closing the stream. One
 * timer serves every client; statuses are built only while someone listens.
 */
import type { FastifyInstance } from 'fastify';
import { type CancelTimer, systemScheduler } from '../util/clock.js';
import { type RouteContext, SECURITY_HEADERS, sendError } from './http-common.js';

const TICK_MS = 1000;
const HEARTBEAT_MS = 15_000;
/** Streams open at once (each costs a socket and a share of the tick). */
export const MAX_EVENT_CLIENTS = 32;

type Writer = (event: string, data: unknown) => void;

export function registerEvents(app: FastifyInstance, ctx: RouteContext): void {
  const clients = new Set<{
    write: Writer;
    writeJson: (event: string, json: string) => void;
    heartbeat: () => void;
  }>();
  let last = new Map<string, string>();
  let cancelTick: CancelTimer | null = null;
  let ticks = 0;

  // The daemon's cached JSON per view (view-json.ts): an unchanged view is the same string, so
  // finding what changed costs a comparison per torrent, not a serialization.
  const tick = () => {
    const changed: string[] = [];
    const next = new Map<string, string>();
    for (const { infoHash, json } of ctx.daemon.listJson()) {
      next.set(infoHash, json);
      if (last.get(infoHash) !== json) changed.push(json);
    }
    last = next;
    const beat = ++ticks % (HEARTBEAT_MS / TICK_MS) === 0;
    const text = changed.length > 0 ? `{"torrents":[${changed.join(',')}]}` : null;
    for (const c of clients) {
      if (text !== null) c.writeJson('torrents', text);
      else if (beat) c.heartbeat();
    }
  };
  const offAdded = ctx.daemon.on('added', (view) => {
    for (const c of clients) c.write('added', view);
  });
  const offRemoved = ctx.daemon.on('removed', (infoHash, id) => {
    last.delete(infoHash);
    for (const c of clients) c.write('removed', { infoHash, id });
  });
  app.addHook('onClose', async () => {
    offAdded();
    offRemoved();
    cancelTick?.();
    cancelTick = null;
  });

  app.get(
    '/api/events',
    { schema: { tags: ['session'], summary: 'Server-Sent Events: torrents, added, removed' } },
    async (request, reply) => {
      if (clients.size >= MAX_EVENT_CLIENTS)
        return sendError(reply, 503, 'EVENTS_BUSY', `at most ${MAX_EVENT_CLIENTS} event streams at once`);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const client = {
        write: (event: string, data: unknown) => {
          raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        },
        writeJson: (event: string, json: string) => {
          raw.write(`event: ${event}\ndata: ${json}\n\n`);
        },
        heartbeat: () => {
          raw.write(': keep-alive\n\n');
        },
      };
      clients.add(client);
      client.writeJson(
        'torrents',
        `{"torrents":[${ctx.daemon
          .listJson()
          .map((v) => v.json)
          .join(',')}]}`,
      );
      // The daemon's timers go through the scheduler, as the engine's do.
      cancelTick ??= systemScheduler.setInterval(TICK_MS, tick);
      request.raw.on('close', () => {
        clients.delete(client);
        if (clients.size === 0 && cancelTick) {
          cancelTick();
          cancelTick = null;
        }
      });
    },
  );
}
