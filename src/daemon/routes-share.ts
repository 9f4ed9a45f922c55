/**
 * Sharing from the web page: `POST /api/share` makes a torrent of a file or folder inside the
 * download folder and seeds it; `GET /api/share/browse` lists a folder there so the page can
 * offer a picker. Paths come from the request, so each is resolved (symlinks included) and must
 * stay inside the download root; anything else is `DAEMON_PATH_OUTSIDE`. Before hashing, the
 * path is scanned for what should not be shared (keys, credentials, wallets…): findings refuse
 * the share (422 `SHARE_SENSITIVE`, with the list) unless `includeSensitive` is true.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { createTorrent } from '../storage/create-torrent.js';
import { scanSensitive } from '../storage/sensitive-scan.js';
import { PeerdropError } from '../util/errors.js';
import { type RouteContext, sendError, VERSION } from './http-common.js';
import { refuseSensitive } from './sensitive-refusal.js';

const ShareBody = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 4096, description: 'inside the download folder' }),
    includeSensitive: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);
const BrowseQuery = Type.Object(
  { path: Type.Optional(Type.String({ maxLength: 4096 })) },
  { additionalProperties: false },
);

/** Entries a folder listing returns, at most (a huge folder is cut, and says so). */
const MAX_ENTRIES = 2000;

/**
 * The real path of `requested` (relative to the root, or absolute), which must exist and lie
 * inside the root; `isRootAllowed` false refuses the root itself.
 */
export async function resolveInsideRoot(
  root: string,
  requested: string,
  isRootAllowed: boolean,
): Promise<string> {
  const realRoot = await realpath(root);
  const target = isAbsolute(requested) ? requested : join(realRoot, requested);
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    throw new PeerdropError(
      'DAEMON_NOT_FOUND',
      `${JSON.stringify(requested)} does not exist in the download folder`,
    );
  }
  const rel = relative(realRoot, real);
  const isInside =
    rel === '' ? isRootAllowed : !rel.startsWith('..') && !isAbsolute(rel) && real.startsWith(realRoot + sep);
  if (!isInside)
    throw new PeerdropError(
      'DAEMON_PATH_OUTSIDE',
      rel === ''
        ? 'choose a file or folder inside the download folder, not the folder itself'
        : `${JSON.stringify(requested)} is not inside the download folder ${realRoot}`,
    );
  return real;
}

/** An address others on this network can dial, for the magnet's `x.pe` hint (as `peerdrop share`). */
function lanAddress(): string | null {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return null;
}

export function registerShareRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { daemon } = ctx;
  const tags = ['share'];

  app.get(
    '/api/share/browse',
    { schema: { tags, summary: 'list a folder inside the download folder', querystring: BrowseQuery } },
    async (request) => {
      const { path = '' } = request.query as Static<typeof BrowseQuery>;
      const realRoot = await realpath(daemon.downloadRoot);
      const dir = await resolveInsideRoot(realRoot, path, true);
      if (!(await stat(dir)).isDirectory())
        throw new PeerdropError('DAEMON_BAD_REQUEST', `${JSON.stringify(path)} is not a folder`);
      const names = await readdir(dir, { withFileTypes: true });
      const entries = [];
      for (const e of names.slice(0, MAX_ENTRIES)) {
        // Symlinks are not listed: what they point at may be outside the root.
        if (!e.isDirectory() && !e.isFile()) continue;
        const sizeBytes = e.isFile() ? ((await stat(join(dir, e.name)).catch(() => null))?.size ?? 0) : 0;
        entries.push({ name: e.name, isDir: e.isDirectory(), sizeBytes });
      }
      entries.sort((a, b) => (a.isDir === b.isDir ? a.name.localeCompare(b.name) : a.isDir ? -1 : 1));
      const rel = relative(realRoot, dir).split(sep).join('/');
      return { root: realRoot, path: rel, entries, isTruncated: names.length > MAX_ENTRIES };
    },
  );

  app.post(
    '/api/share',
    {
      schema: {
        tags,
        summary: 'make a torrent of a file or folder in the download folder and seed it',
        body: ShareBody,
      },
    },
    async (request, reply) => {
      const body = request.body as Static<typeof ShareBody>;
      const real = await resolveInsideRoot(daemon.downloadRoot, body.path, false);
      const scan = await scanSensitive(real);
      if (scan.findings.length > 0 && !body.includeSensitive) return refuseSensitive(reply, scan, 'share');
      const created = await createTorrent(real, {
        createdBy: `peerdrop ${VERSION}`,
        creationDate: Math.floor(Date.now() / 1000),
        threads: 2,
      });
      if (created.totalLengthBytes === 0)
        return sendError(reply, 400, 'SHARE_EMPTY', `${basename(real)} has no data to share (empty)`);
      // The torrent's name is the file or folder's own name, so its parent is the data folder.
      const torrent = await daemon.add({ torrent: created.torrentBytes, downloadDir: dirname(real) });
      const host = lanAddress();
      const magnet = host ? `${created.magnet}&x.pe=${host}:${daemon.session.port}` : created.magnet;
      return reply.code(201).send({
        torrent,
        name: created.name,
        magnet,
        magnetWithoutPeer: created.magnet,
        findings: scan.findings,
      });
    },
  );
}
