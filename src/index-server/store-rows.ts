import type { EntryBody } from './entry.js';
import { totalSize } from './entry.js';
import type { AuditRecord, Existing, StoredEntry } from './store.js';

/**
 * Row mapping shared by the SQLite and PostgreSQL stores: both keep the same columns, they
 * only differ in how JSON columns come back (text in SQLite, parsed `jsonb` in PostgreSQL).
 */
export type Row = Record<string, unknown>;

/** The entry columns in insert order: info_hash_v2, name, title, description, tags, category, files, trackers, size_bytes. */
export function entryColumns(e: EntryBody): (string | number | null)[] {
  return [
    e.infoHashV2,
    e.name,
    e.title,
    e.description,
    JSON.stringify(e.tags),
    e.category,
    JSON.stringify(e.files),
    JSON.stringify(e.trackers),
    totalSize(e.files),
  ];
}

export function nullableNumber(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/** A stored row as an entry; `json` reads a JSON column as the backend returns it. */
export function rowToEntry(r: Row, json: (v: unknown) => unknown): StoredEntry {
  const id = String(r.id);
  return {
    id,
    infoHash: id.length === 40 ? id : null,
    infoHashV2: (r.info_hash_v2 as string | null) ?? null,
    name: String(r.name),
    files: json(r.files) as StoredEntry['files'],
    trackers: json(r.trackers) as string[],
    title: String(r.title),
    description: String(r.description),
    tags: json(r.tags) as string[],
    category: String(r.category),
    seq: Number(r.seq),
    publisher: String(r.publisher),
    signature: String(r.signature),
    sizeBytes: Number(r.size_bytes),
    publishedAtMs: Number(r.published_at),
    updatedAtMs: Number(r.updated_at),
    seeders: nullableNumber(r.seeders),
    leechers: nullableNumber(r.leechers),
    checkedAtMs: nullableNumber(r.checked_at),
  };
}

export function rowToAuditRecord(r: Row): AuditRecord {
  return {
    id: String(r.id),
    action: 'takedown',
    reason: String(r.reason),
    actor: String(r.actor),
    atMs: Number(r.at),
  };
}

/** The ownership fields of an `entries` or `tombstones` row (for the publish/remove rules). */
export function rowToExisting(r: Row): Pick<Existing, 'id' | 'infoHashV2' | 'publisher' | 'seq'> {
  return {
    id: String(r.id),
    infoHashV2: (r.info_hash_v2 as string | null) ?? null,
    publisher: String(r.publisher),
    seq: Number(r.seq),
  };
}
