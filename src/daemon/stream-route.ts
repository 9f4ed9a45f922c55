/**
 * GET /api/torrents/:id/files/:index: one file of a torrent, with range requests (206, 416),
 * served while it downloads: each piece is sent once verified (see stream.ts). Each response
 * holds an engine reader (`TorrentHandle.createReader`) at the requested offset, so the pieces
 * it needs next are fetched first, in order; a player's seek is a new range request (a new
 * window), and the window is released when the response ends or the client goes away.
 */
import { Readable } from 'node:stream';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TorrentHandle, TorrentReader } from '../session/torrent-handle.js';
import { PeerdropError } from '../util/errors.js';
import { type RouteContext, sendError, TorrentId } from './http-common.js';
import {
  contentTypeFor,
  ensureVerified,
  parseRange,
  readVerifiedRange,
  type StreamSource,
} from './stream.js';

const FileParams = Type.Object({ id: TorrentId, index: Type.Integer({ minimum: 0, maximum: 1_000_000 }) });

export function registerFileStream(app: FastifyInstance, ctx: RouteContext): void {
  app.get(
    '/api/torrents/:id/files/:index',
    { schema: { tags: ['torrents'], summary: 'stream a file (Range supported)', params: FileParams } },
    async (request, reply) => {
      const { id, index } = request.params as Static<typeof FileParams>;
      const { daemon } = ctx;
      const handle = daemon.handle(id);
      const metainfo = handle.metainfo;
      if (!metainfo) throw new PeerdropError('DAEMON_METADATA_PENDING', 'the file list is not known yet');
      const file = metainfo.files[index];
      if (!file || file.attributes.isPadding) throw new PeerdropError('DAEMON_NOT_FOUND', `no file ${index}`);
      const record = daemon.record(id);
      const size = file.lengthBytes;
      const range = parseRange(request.headers.range, size);
      reply.header('accept-ranges', 'bytes');
      if (range.kind === 'unsatisfiable') {
        reply.header('content-range', `bytes */${size}`);
        return sendError(reply, 416, 'RANGE_NOT_SATISFIABLE', `the file has ${size} bytes`);
      }
      const start = range.kind === 'partial' ? range.start : 0;
      const end = range.kind === 'partial' ? range.end : size - 1;
      const reader = openReader(handle, index, start, end);
      const abort = new AbortController();
      request.raw.on('close', () => {
        abort.abort();
        reader?.close();
      });
      let isRaised = false;
      const src: StreamSource = {
        key: record.infoHash,
        dir: record.downloadDir,
        metainfo,
        watch: daemon.pieces,
        isAllVerified: () => handle.status().state === 'seeding' && (record.filePriorities?.[index] ?? 4) > 0,
        onMissing: () => {
          // The reader's window fetches the range first; a skipped file has to be wanted again.
          if (isRaised) return;
          isRaised = true;
          const current = daemon.store.getTorrent(record.infoHash)?.filePriorities?.[index] ?? 4;
          if (current === 0)
            void daemon.setFilePriorities(record.infoHash, [{ index, priority: 4 }]).catch(() => {});
        },
        onRead: (at) => reader?.advanceTo(at),
        pieceTimeoutMs: ctx.pieceTimeoutMs,
        signal: abort.signal,
      };
      // The first piece is awaited before the headers, so "not there yet" is a clean 503.
      try {
        if (size > 0)
          await ensureVerified(src, Math.floor((file.offsetBytes + start) / metainfo.pieceLengthBytes));
      } catch (err) {
        reader?.close();
        throw err;
      }
      reply.type(contentTypeFor(file.path[file.path.length - 1]!));
      reply.header('content-length', String(size === 0 ? 0 : end - start + 1));
      reply.header(
        'content-disposition',
        `inline; filename*=UTF-8''${encodeURIComponent(file.path[file.path.length - 1]!)}`,
      );
      reply.header('cache-control', 'no-store');
      if (range.kind === 'partial') {
        reply.code(206);
        reply.header('content-range', `bytes ${start}-${end}/${size}`);
      }
      if (size === 0 || request.method === 'HEAD') {
        reader?.close();
        return reply.send('');
      }
      return reply.send(Readable.from(releasing(readVerifiedRange(src, index, start, end), reader)));
    },
  );
}

/**
 * An engine reader for bytes [start, end] of torrent file `index` (the metainfo's index, padding
 * files counted; the handle counts only real files). Null where the engine cannot stream.
 */
function openReader(handle: TorrentHandle, index: number, start: number, end: number): TorrentReader | null {
  const files = handle.metainfo?.files ?? [];
  const userIndex = files.slice(0, index).filter((f) => !f.attributes.isPadding).length;
  if (end < start) return null;
  try {
    return handle.createReader(userIndex, { offsetBytes: start, lengthBytes: end - start + 1 });
  } catch {
    return null;
  }
}

/** The chunks of `source`, and the reader released when they end (finished, failed or abandoned). */
async function* releasing(
  source: AsyncGenerator<Uint8Array>,
  reader: TorrentReader | null,
): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } finally {
    reader?.close();
  }
}
