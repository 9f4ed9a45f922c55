/**
 * The JSON API under /api: every parameter and body has a TypeBox schema (validated by
 * fastify, published in /api/openapi.json); failures are 400 `{code, message}`.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { PeerdropError } from '../util/errors.js';
import { IdParams, MAX_TORRENT_BYTES, type RouteContext, VERSION } from './http-common.js';
import { registerRssRoutes } from './routes-rss.js';
import { SettingsBody } from './settings.js';
import { registerEvents } from './sse.js';
import { registerFileStream } from './stream-route.js';

type IdParamsT = Static<typeof IdParams>;

const Labels = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 });
const Rate = Type.Union([Type.Integer({ minimum: 1, maximum: 2 ** 40 }), Type.Null()]);

export const AddBody = Type.Object(
  {
    magnet: Type.Optional(Type.String({ minLength: 8, maxLength: 64 * 1024, pattern: '^magnet:' })),
    torrent: Type.Optional(
      Type.String({
        minLength: 4,
        maxLength: Math.ceil(MAX_TORRENT_BYTES / 3) * 4,
        description: 'base64 .torrent',
      }),
    ),
    downloadDir: Type.Optional(Type.String({ maxLength: 4096, description: 'inside the download folder' })),
    paused: Type.Optional(Type.Boolean()),
    labels: Type.Optional(Labels),
    files: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 1_000_000 }), { maxItems: 100_000 })),
  },
  { additionalProperties: false },
);

const RemoveQuery = Type.Object(
  { deleteData: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);
const PrioritiesBody = Type.Object(
  {
    files: Type.Array(
      Type.Object(
        { index: Type.Integer({ minimum: 0 }), priority: Type.Integer({ minimum: 0, maximum: 7 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100_000 },
    ),
  },
  { additionalProperties: false },
);
const LimitsBody = Type.Object(
  { downloadBps: Type.Optional(Rate), uploadBps: Type.Optional(Rate) },
  { additionalProperties: false },
);
const LabelsBody = Type.Object({ labels: Labels }, { additionalProperties: false });
const GoalsBody = Type.Object(
  {
    ratio: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 10_000 }), Type.Null()])),
    seedSeconds: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  },
  { additionalProperties: false },
);

const QueueBody = Type.Object(
  { position: Type.Integer({ minimum: 0, maximum: 1_000_000, description: '0 is the front of the queue' }) },
  { additionalProperties: false },
);

export function registerApiRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { daemon } = ctx;
  const tags = ['torrents'];

  // Sent as text made of each torrent's cached JSON (view-json.ts): at 1,000 torrents, building
  // and serializing every view per request was most of the time.
  app.get(
    '/api/torrents',
    { schema: { tags, summary: 'every torrent with its status' } },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(daemon.listBody()),
  );

  app.post(
    '/api/torrents',
    { schema: { tags, summary: 'add a magnet link or a .torrent (base64)', body: AddBody } },
    async (request, reply) => {
      const body = request.body as Static<typeof AddBody>;
      const torrent = body.torrent === undefined ? undefined : decodeBase64(body.torrent);
      const view = await daemon.add({
        ...(torrent ? { torrent } : {}),
        ...(body.magnet === undefined ? {} : { magnet: body.magnet }),
        ...(body.downloadDir === undefined ? {} : { downloadDir: body.downloadDir }),
        isPaused: body.paused ?? false,
        ...(body.labels ? { labels: body.labels } : {}),
        ...(body.files ? { files: body.files } : {}),
      });
      return reply.code(201).send(view);
    },
  );

  app.post(
    '/api/torrents/upload',
    {
      schema: {
        tags,
        summary: 'add a .torrent as multipart/form-data (field `torrent`)',
        consumes: ['multipart/form-data'],
      },
    },
    async (request, reply) => {
      if (!request.isMultipart())
        throw new PeerdropError('DAEMON_BAD_REQUEST', 'expected multipart/form-data with a `torrent` file');
      let torrent: Uint8Array | undefined;
      const fields: Record<string, string> = {};
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          if (part.fieldname !== 'torrent')
            throw new PeerdropError('DAEMON_BAD_REQUEST', 'the file field must be `torrent`');
          torrent = await part.toBuffer();
        } else if (typeof part.value === 'string') fields[part.fieldname] = part.value;
      }
      if (!torrent) throw new PeerdropError('DAEMON_BAD_REQUEST', 'no `torrent` file in the form');
      const view = await daemon.add({
        torrent,
        ...(fields.downloadDir ? { downloadDir: fields.downloadDir } : {}),
        isPaused: fields.paused === 'true',
      });
      return reply.code(201).send(view);
    },
  );

  app.get('/api/torrents/:id', { schema: { tags, params: IdParams } }, async (request) => {
    const { id } = request.params as IdParamsT;
    const view = daemon.view(id);
    if (!view) throw new PeerdropError('DAEMON_NOT_FOUND', `no torrent ${id}`);
    return { ...view, files: daemon.files(id) };
  });

  app.post('/api/torrents/:id/pause', { schema: { tags, params: IdParams } }, async (request) => {
    const { id } = request.params as IdParamsT;
    await daemon.pause(daemon.record(id).infoHash);
    return daemon.view(id);
  });

  app.post('/api/torrents/:id/resume', { schema: { tags, params: IdParams } }, async (request) => {
    const { id } = request.params as IdParamsT;
    await daemon.resume(daemon.record(id).infoHash);
    return daemon.view(id);
  });

  app.delete(
    '/api/torrents/:id',
    {
      schema: {
        tags,
        summary: 'remove; deleteData=true also deletes its files',
        params: IdParams,
        querystring: RemoveQuery,
      },
    },
    async (request) => {
      const { id } = request.params as IdParamsT;
      const { deleteData } = request.query as Static<typeof RemoveQuery>;
      const record = daemon.record(id);
      await daemon.remove(record.infoHash, { deleteData: deleteData ?? false });
      return { removed: record.infoHash, deletedData: deleteData ?? false };
    },
  );

  app.get('/api/torrents/:id/files', { schema: { tags, params: IdParams } }, async (request) => {
    const { id } = request.params as IdParamsT;
    return { files: daemon.files(id) };
  });

  app.put(
    '/api/torrents/:id/files',
    { schema: { tags, summary: 'set file priorities (0 skips)', params: IdParams, body: PrioritiesBody } },
    async (request) => {
      const { id } = request.params as IdParamsT;
      await daemon.setFilePriorities(
        daemon.record(id).infoHash,
        (request.body as Static<typeof PrioritiesBody>).files,
      );
      return { files: daemon.files(id) };
    },
  );

  app.put(
    '/api/torrents/:id/limits',
    {
      schema: {
        tags,
        summary: 'per-torrent limits in bytes/s (null: unlimited)',
        params: IdParams,
        body: LimitsBody,
      },
    },
    async (request) => {
      const { id } = request.params as IdParamsT;
      daemon.setLimits(daemon.record(id).infoHash, request.body as Static<typeof LimitsBody>);
      return daemon.view(id);
    },
  );

  app.put(
    '/api/torrents/:id/labels',
    { schema: { tags, params: IdParams, body: LabelsBody } },
    async (request) => {
      const { id } = request.params as IdParamsT;
      daemon.setLabels(id, (request.body as Static<typeof LabelsBody>).labels);
      return daemon.view(id);
    },
  );

  app.put(
    '/api/torrents/:id/seed-goals',
    { schema: { tags, params: IdParams, body: GoalsBody } },
    async (request) => {
      const { id } = request.params as IdParamsT;
      daemon.setSeedGoals(id, request.body as Static<typeof GoalsBody>);
      return daemon.view(id);
    },
  );

  app.put(
    '/api/torrents/:id/queue',
    { schema: { tags, summary: 'move in the download/seed queue', params: IdParams, body: QueueBody } },
    async (request) => {
      const { id } = request.params as IdParamsT;
      await daemon.setQueuePosition(id, (request.body as Static<typeof QueueBody>).position);
      return daemon.view(id);
    },
  );

  app.get(
    '/api/torrents/:id/diagnosis',
    {
      schema: {
        tags,
        summary: 'why is this not downloading: reasons with codes, and the facts',
        params: IdParams,
      },
    },
    async (request) => daemon.diagnose((request.params as IdParamsT).id),
  );

  app.get('/api/torrents/:id/peers', { schema: { tags, params: IdParams } }, async (request) => {
    const { id } = request.params as IdParamsT;
    return { peers: daemon.handle(id).peers() };
  });

  app.get('/api/torrents/:id/trackers', { schema: { tags, params: IdParams } }, async (request) => {
    const { id } = request.params as IdParamsT;
    return { trackers: daemon.handle(id).trackers() };
  });

  app.get('/api/session', { schema: { tags: ['session'], summary: 'session totals' } }, async () =>
    sessionStats(ctx),
  );

  app.get('/api/settings', { schema: { tags: ['session'] } }, async () => settingsOf(ctx));
  app.put('/api/settings', { schema: { tags: ['session'], body: SettingsBody } }, async (request) => {
    await daemon.updateSettings(request.body as Static<typeof SettingsBody>);
    return settingsOf(ctx);
  });

  app.post(
    '/api/login-links',
    { schema: { tags: ['session'], summary: 'a new one-time login link for the web page' } },
    async () => ({
      url: `${ctx.baseUrl()}/login?code=${ctx.auth.loginCode()}`,
    }),
  );

  registerRssRoutes(app, ctx);
  registerEvents(app, ctx);
  registerFileStream(app, ctx);
}

export function sessionStats(ctx: RouteContext) {
  const statuses = ctx.daemon.session.statuses();
  let downloadRate = 0;
  let uploadRate = 0;
  let downloadedBytes = 0;
  let uploadedBytes = 0;
  let active = 0;
  for (const s of statuses) {
    downloadRate += s.downloadRate;
    uploadRate += s.uploadRate;
    downloadedBytes += s.downloadedBytes;
    uploadedBytes += s.uploadedBytes;
    if (s.state !== 'paused' && s.state !== 'stopped' && s.state !== 'error') active++;
  }
  return {
    version: VERSION,
    peerPort: ctx.daemon.session.port,
    torrents: ctx.daemon.store.listTorrents().length,
    activeTorrents: active,
    pausedTorrents: ctx.daemon.store.listTorrents().filter((r) => r.state === 'paused').length,
    downloadRate,
    uploadRate,
    downloadedBytes,
    uploadedBytes,
    isAltSpeedActive: ctx.daemon.jobs.isAltSpeedActive,
    queuedTorrents: ctx.daemon.store.listTorrents().filter((r) => ctx.daemon.jobs.isQueued(r.infoHash))
      .length,
    incomingConnectionsAccepted: ctx.daemon.session.incomingHandshakes,
  };
}

export function settingsOf(ctx: RouteContext) {
  const settings = ctx.daemon.settings();
  return {
    ...settings,
    downloadDir: ctx.daemon.downloadRoot,
    peerPort: settings.peerPort ?? ctx.daemon.session.port,
    isAltSpeedActive: ctx.daemon.jobs.isAltSpeedActive,
  };
}

function decodeBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text.replace(/\s+/g, '')))
    throw new PeerdropError('DAEMON_BAD_REQUEST', '`torrent` must be base64');
  return new Uint8Array(Buffer.from(text, 'base64'));
}
