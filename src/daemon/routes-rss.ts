/** RSS feeds and download rules under /api/rss: every body and parameter has a TypeBox schema. */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './http-common.js';

const Id = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) });
type IdT = Static<typeof Id>;
const Text = (maxLength: number) => Type.String({ maxLength });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const FeedFields = {
  url: Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://' }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  isEnabled: Type.Boolean(),
  intervalMinutes: Type.Integer({ minimum: 5, maximum: 7 * 24 * 60 }),
  label: Nullable(Type.String({ minLength: 1, maxLength: 64 })),
  downloadDir: Nullable(Type.String({ minLength: 1, maxLength: 4096 })),
};
const NewFeedBody = Type.Object(
  {
    url: FeedFields.url,
    name: Type.Optional(FeedFields.name),
    isEnabled: Type.Optional(FeedFields.isEnabled),
    intervalMinutes: Type.Optional(FeedFields.intervalMinutes),
    label: Type.Optional(FeedFields.label),
    downloadDir: Type.Optional(FeedFields.downloadDir),
  },
  { additionalProperties: false },
);
const FeedPatch = Type.Partial(Type.Object(FeedFields, { additionalProperties: false }), {
  additionalProperties: false,
});

const RuleFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  isEnabled: Type.Boolean(),
  feedIds: Type.Array(Type.String({ pattern: '^[0-9a-f-]{36}$' }), { maxItems: 100 }),
  mustContain: Text(500),
  mustNotContain: Text(500),
  isRegex: Type.Boolean(),
  episodeFilter: Nullable(Type.String({ maxLength: 200 })),
  label: Nullable(Type.String({ minLength: 1, maxLength: 64 })),
  downloadDir: Nullable(Type.String({ minLength: 1, maxLength: 4096 })),
  addPaused: Type.Boolean(),
};
const NewRuleBody = Type.Object(
  {
    name: RuleFields.name,
    mustContain: RuleFields.mustContain,
    isEnabled: Type.Optional(RuleFields.isEnabled),
    feedIds: Type.Optional(RuleFields.feedIds),
    mustNotContain: Type.Optional(RuleFields.mustNotContain),
    isRegex: Type.Optional(RuleFields.isRegex),
    episodeFilter: Type.Optional(RuleFields.episodeFilter),
    label: Type.Optional(RuleFields.label),
    downloadDir: Type.Optional(RuleFields.downloadDir),
    addPaused: Type.Optional(RuleFields.addPaused),
  },
  { additionalProperties: false },
);
const RulePatch = Type.Partial(Type.Object(RuleFields, { additionalProperties: false }), {
  additionalProperties: false,
});

export function registerRssRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const rss = ctx.daemon.rss;
  const tags = ['rss'];

  app.get('/api/rss/feeds', { schema: { tags } }, async () => ({
    feeds: rss.feeds().map((f) => {
      const { lastFetchedMs, lastError, items } = rss.feedState(f.id);
      return { ...f, lastFetchedMs, lastError, itemCount: items.length };
    }),
  }));

  app.post('/api/rss/feeds', { schema: { tags, body: NewFeedBody } }, async (request, reply) => {
    const b = request.body as Static<typeof NewFeedBody>;
    const feed = rss.addFeed({
      url: b.url,
      name: b.name ?? new URL(b.url).host,
      isEnabled: b.isEnabled ?? true,
      intervalMinutes: b.intervalMinutes ?? 30,
      label: b.label ?? null,
      downloadDir: b.downloadDir ?? null,
    });
    return reply.code(201).send(feed);
  });

  app.patch('/api/rss/feeds/:id', { schema: { tags, params: Id, body: FeedPatch } }, async (request) =>
    rss.updateFeed((request.params as IdT).id, request.body as Static<typeof FeedPatch>),
  );

  app.delete('/api/rss/feeds/:id', { schema: { tags, params: Id } }, async (request) => {
    rss.removeFeed((request.params as IdT).id);
    return { removed: (request.params as IdT).id };
  });

  app.get('/api/rss/feeds/:id/items', { schema: { tags, params: Id } }, async (request) =>
    rss.feedState((request.params as IdT).id),
  );

  app.post(
    '/api/rss/feeds/:id/refresh',
    { schema: { tags, summary: 'fetch now and apply the rules', params: Id } },
    async (request) => rss.refresh((request.params as IdT).id),
  );

  app.get('/api/rss/rules', { schema: { tags } }, async () => ({ rules: rss.rules() }));

  app.post('/api/rss/rules', { schema: { tags, body: NewRuleBody } }, async (request, reply) => {
    const b = request.body as Static<typeof NewRuleBody>;
    const rule = rss.addRule({
      name: b.name,
      isEnabled: b.isEnabled ?? true,
      feedIds: b.feedIds ?? [],
      mustContain: b.mustContain,
      mustNotContain: b.mustNotContain ?? '',
      isRegex: b.isRegex ?? false,
      episodeFilter: b.episodeFilter ?? null,
      label: b.label ?? null,
      downloadDir: b.downloadDir ?? null,
      addPaused: b.addPaused ?? false,
    });
    return reply.code(201).send(rule);
  });

  app.patch('/api/rss/rules/:id', { schema: { tags, params: Id, body: RulePatch } }, async (request) =>
    rss.updateRule((request.params as IdT).id, request.body as Static<typeof RulePatch>),
  );

  app.delete('/api/rss/rules/:id', { schema: { tags, params: Id } }, async (request) => {
    rss.removeRule((request.params as IdT).id);
    return { removed: (request.params as IdT).id };
  });
}
