/**
 * TypeBox schemas of the index's HTTP API: fastify validates every body, path and query
 * parameter against them before a handler runs, and @fastify/swagger turns them into the
 * OpenAPI document served at `GET /api/openapi.json`.
 *
 * The schemas bound shapes, types and lengths; the entry parser (entry.ts) stays the authority
 * on the finer rules (characters, safe paths, tracker schemes, canonical form) and runs after
 * them. Validation never coerces a body value (seq "5" is refused, not turned into 5): the
 * signature covers exactly what was sent. Query parameters are strings matched by pattern and
 * converted by the handler, so `minSize=1e9` is refused instead of read as a number.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { ENTRY_LIMITS } from './entry.js';
import { MAX_REASON_CHARS } from './store.js';

const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const HashParams = Type.Object({
  infoHash: Type.String({
    pattern: '^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$',
    description: 'v1 (40 hex) or v2 (64 hex) info-hash',
  }),
});

const Entry = Type.Object(
  {
    infoHash: Type.Optional(nullable(Type.String({ pattern: '^[0-9a-f]{40}$' }))),
    infoHashV2: Type.Optional(nullable(Type.String({ pattern: '^[0-9a-f]{64}$' }))),
    name: Type.String({ maxLength: ENTRY_LIMITS.maxNameChars }),
    files: Type.Array(
      Type.Object({
        path: Type.Array(Type.String({ maxLength: ENTRY_LIMITS.maxPathChars }), {
          maxItems: ENTRY_LIMITS.maxPathComponents,
        }),
        length: Type.Integer({ minimum: 0 }),
      }),
      { maxItems: ENTRY_LIMITS.maxFiles },
    ),
    trackers: Type.Optional(
      Type.Array(Type.String({ maxLength: ENTRY_LIMITS.maxTrackerChars }), {
        maxItems: ENTRY_LIMITS.maxTrackers,
      }),
    ),
    title: Type.Optional(Type.String({ maxLength: ENTRY_LIMITS.maxTitleChars })),
    description: Type.Optional(Type.String({ maxLength: ENTRY_LIMITS.maxDescriptionChars })),
    tags: Type.Optional(
      Type.Array(Type.String({ maxLength: ENTRY_LIMITS.maxTagChars }), { maxItems: ENTRY_LIMITS.maxTags }),
    ),
    category: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' })),
    seq: Type.Integer({ minimum: 1 }),
    publisher: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'ed25519 public key' }),
  },
  { description: 'signed over its bencoded canonical form (src/index-server/entry.ts)' },
);

const Signature = Type.String({ pattern: '^[0-9a-f]{128}$', description: 'ed25519 signature, hex' });

export const SignedEntryBody = Type.Object({ entry: Entry, signature: Signature });

export const SignedRemovalBody = Type.Object({
  removal: Type.Object({
    infoHash: Type.String({ pattern: '^([0-9a-f]{40}|[0-9a-f]{64})$' }),
    seq: Type.Integer({ minimum: 1 }),
    publisher: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  }),
  signature: Signature,
});

export const TakedownBody = Type.Object({
  infoHash: Type.String({ pattern: '^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$' }),
  reason: Type.String({ minLength: 1, maxLength: MAX_REASON_CHARS }),
});

const uint = (description: string) => Type.String({ pattern: '^\\d{1,15}$', description });

export const SearchQuery = Type.Object({
  q: Type.Optional(
    Type.String({ maxLength: 256, description: 'words, "phrases", -excluded (at most 256 characters)' }),
  ),
  category: Type.Optional(Type.String({ maxLength: 100 })),
  publisher: Type.Optional(Type.String({ maxLength: 100, description: '64-hex public key' })),
  minSize: Type.Optional(uint('bytes, at least')),
  maxSize: Type.Optional(uint('bytes, at most')),
  since: Type.Optional(Type.String({ maxLength: 40, description: 'ISO date or Unix seconds' })),
  page: Type.Optional(uint('1-based page')),
  perPage: Type.Optional(uint('results per page, at most 100')),
});

/** The search page takes the same parameters; it shows errors in the page instead of a 4xx. */
export const PageQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 4096 })),
  category: Type.Optional(Type.String({ maxLength: 4096 })),
  page: Type.Optional(Type.String({ maxLength: 4096 })),
});

export const ErrorReply = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});

/** The OpenAPI document's header; the paths come from the route schemas. */
export const OPENAPI_INFO = {
  openapi: '3.0.3',
  info: {
    title: 'peerdrop index',
    version: '1',
    description:
      "A searchable index of torrents. Entries are signed with the publisher's ed25519 key over the bencoded " +
      'canonical form (see src/index-server/entry.ts); only that key can update (larger seq) or remove them. ' +
      'Every error is `{ "error": { "code", "message" } }` with a stable code. Search results carry ' +
      '`seeders`/`leechers` from tracker scrapes, or null with `healthNote` saying why health is unknown.',
  },
  components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
} as const;
