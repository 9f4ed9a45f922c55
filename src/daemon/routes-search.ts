/**
 * Search the central index from the web page: `GET /api/search?q=` asks the index the daemon is
 * set to (`PUT /api/search/index`, kept in the settings as `indexUrl`; else `$PEERDROP_INDEX`)
 * and answers with its results, checked and capped by `IndexClient`. The page talks only to its
 * own origin (the CSP's connect-src 'self'), so the daemon does the fetch. Only the index URL
 * the user set is ever fetched; nothing from the request picks where the request goes.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { IndexClient } from '../index-server/client.js';
import { IndexError } from '../index-server/errors.js';
import type { RouteContext } from './http-common.js';
import { sendError } from './http-common.js';

const SearchQuery = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: 500 }),
    category: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    perPage: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);
const IndexBody = Type.Object(
  {
    url: Type.Union([
      Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://[\\x21-\\x7e]+$' }),
      Type.Null(),
    ]),
  },
  { additionalProperties: false },
);

const SETTING = 'indexUrl';

export function registerSearchRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const tags = ['search'];
  const configured = (): { url: string | null; source: 'settings' | 'env' | null } => {
    const stored = ctx.daemon.store.getSettings()[SETTING];
    if (typeof stored === 'string' && stored !== '') return { url: stored, source: 'settings' };
    const env = process.env.PEERDROP_INDEX;
    return env ? { url: env, source: 'env' } : { url: null, source: null };
  };

  app.get('/api/search/index', { schema: { tags, summary: 'the index searches go to' } }, async () =>
    configured(),
  );
  app.put(
    '/api/search/index',
    {
      schema: { tags, summary: 'set the index URL (null: back to $PEERDROP_INDEX or none)', body: IndexBody },
    },
    async (request) => {
      const { url } = request.body as Static<typeof IndexBody>;
      ctx.daemon.store.setSettings({ [SETTING]: url ?? '' });
      return configured();
    },
  );

  app.get(
    '/api/search',
    { schema: { tags, summary: 'search the central index', querystring: SearchQuery } },
    async (request, reply) => {
      const { url } = configured();
      if (!url)
        return sendError(
          reply,
          503,
          'SEARCH_NO_INDEX',
          'no index is set: choose one in Settings (or set PEERDROP_INDEX)',
        );
      const q = request.query as Static<typeof SearchQuery>;
      try {
        const client = new IndexClient(url);
        const r = await client.search(q.q, {
          ...(q.category ? { category: q.category } : {}),
          page: q.page ?? 1,
          perPage: q.perPage ?? 30,
        });
        return { index: url, results: r.results, hasMore: r.hasMore };
      } catch (err) {
        if (!(err instanceof IndexError)) throw err;
        // The index's own complaint about the query is the user's to fix; anything else is the index's.
        const isQuery =
          err.code === 'QUERY_INVALID' || err.code === 'QUERY_TOO_LONG' || err.code === 'BAD_REQUEST';
        return sendError(reply, isQuery ? 400 : 502, `SEARCH_${err.code}`, err.message);
      }
    },
  );
}
