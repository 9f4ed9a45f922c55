/** The OpenAPI 3 description served at `GET /api/openapi.json`. Kept next to http-api.ts. */

const errorRef = { $ref: '#/components/responses/Error' };
const hashParam = {
  name: 'infoHash',
  in: 'path',
  required: true,
  description: 'v1 (40 hex) or v2 (64 hex) info-hash',
  schema: { type: 'string', pattern: '^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$' },
};
const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });

export const OPENAPI = {
  openapi: '3.0.3',
  info: {
    title: 'peerdrop index',
    version: '1',
    description:
      "A searchable index of torrents. Entries are signed with the publisher's ed25519 key over the bencoded " +
      'canonical form (see src/index-server/entry.ts); only that key can update (larger seq) or remove them.',
  },
  paths: {
    '/api/entries': {
      post: {
        summary: 'Publish a signed entry',
        requestBody: { required: true, content: json('SignedEntry') },
        responses: { '201': { description: 'created', content: json('EntryResponse') }, '4XX': errorRef },
      },
    },
    '/api/entries/{infoHash}': {
      parameters: [hashParam],
      get: {
        summary: 'Fetch an entry',
        responses: { '200': { description: 'the entry', content: json('EntryResponse') }, '4XX': errorRef },
      },
      put: {
        summary: 'Update an entry (same publisher, larger seq)',
        requestBody: { required: true, content: json('SignedEntry') },
        responses: { '200': { description: 'updated', content: json('EntryResponse') }, '4XX': errorRef },
      },
      delete: {
        summary: 'Remove an entry (signed by its publisher)',
        requestBody: { required: true, content: json('SignedRemoval') },
        responses: { '200': { description: 'removed' }, '4XX': errorRef },
      },
    },
    '/api/search': {
      get: {
        summary: 'Full-text search, ranked by relevance then seeders',
        parameters: [
          {
            name: 'q',
            in: 'query',
            schema: { type: 'string', maxLength: 256 },
            description: 'words, "phrases", -excluded',
          },
          { name: 'category', in: 'query', schema: { type: 'string' } },
          { name: 'minSize', in: 'query', schema: { type: 'integer', minimum: 0 } },
          { name: 'maxSize', in: 'query', schema: { type: 'integer', minimum: 0 } },
          { name: 'since', in: 'query', schema: { type: 'string' }, description: 'ISO date or Unix seconds' },
          { name: 'publisher', in: 'query', schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
          { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1 } },
          { name: 'perPage', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
        ],
        responses: {
          '200': { description: 'a page of results', content: json('SearchPage') },
          '4XX': errorRef,
        },
      },
    },
    '/api/admin/takedown': {
      post: {
        summary: 'Take an entry down (admin token), recorded in the audit log',
        security: [{ adminToken: [] }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['infoHash', 'reason'],
                properties: { infoHash: { type: 'string' }, reason: { type: 'string', maxLength: 2000 } },
              },
            },
          },
        },
        responses: { '200': { description: 'taken down' }, '4XX': errorRef },
      },
    },
    '/api/admin/audit': {
      get: {
        summary: 'The audit log, newest first',
        security: [{ adminToken: [] }],
        responses: { '200': { description: 'records' }, '4XX': errorRef },
      },
    },
    '/healthz': { get: { summary: 'Liveness and entry count', responses: { '200': { description: 'ok' } } } },
  },
  components: {
    securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } },
    responses: {
      Error: {
        description: 'An error with a stable code',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: {
                error: {
                  type: 'object',
                  properties: { code: { type: 'string' }, message: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
    schemas: {
      Entry: {
        type: 'object',
        required: ['name', 'files', 'seq', 'publisher'],
        properties: {
          infoHash: { type: 'string', nullable: true, pattern: '^[0-9a-f]{40}$' },
          infoHashV2: { type: 'string', nullable: true, pattern: '^[0-9a-f]{64}$' },
          name: { type: 'string' },
          files: {
            type: 'array',
            items: {
              type: 'object',
              properties: { path: { type: 'array', items: { type: 'string' } }, length: { type: 'integer' } },
            },
          },
          trackers: { type: 'array', items: { type: 'string' } },
          title: { type: 'string' },
          description: { type: 'string' },
          tags: { type: 'array', items: { type: 'string' } },
          category: { type: 'string' },
          seq: { type: 'integer', minimum: 1 },
          publisher: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        },
      },
      SignedEntry: {
        type: 'object',
        required: ['entry', 'signature'],
        properties: {
          entry: { $ref: '#/components/schemas/Entry' },
          signature: { type: 'string', pattern: '^[0-9a-f]{128}$' },
        },
      },
      SignedRemoval: {
        type: 'object',
        required: ['removal', 'signature'],
        properties: {
          removal: {
            type: 'object',
            properties: {
              infoHash: { type: 'string' },
              seq: { type: 'integer' },
              publisher: { type: 'string' },
            },
          },
          signature: { type: 'string' },
        },
      },
      SearchResult: {
        type: 'object',
        properties: {
          infoHash: { type: 'string', nullable: true },
          infoHashV2: { type: 'string', nullable: true },
          name: { type: 'string' },
          title: { type: 'string' },
          magnet: { type: 'string' },
          seeders: { type: 'integer', nullable: true },
          leechers: { type: 'integer', nullable: true },
          sizeBytes: { type: 'integer' },
          category: { type: 'string' },
          publishedAt: { type: 'string', format: 'date-time' },
        },
      },
      SearchPage: {
        type: 'object',
        properties: {
          results: { type: 'array', items: { $ref: '#/components/schemas/SearchResult' } },
          page: { type: 'integer' },
          perPage: { type: 'integer' },
          hasMore: { type: 'boolean' },
        },
      },
      EntryResponse: { type: 'object', properties: { entry: { $ref: '#/components/schemas/SearchResult' } } },
    },
  },
} as const;
