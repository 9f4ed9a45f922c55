import { encode } from '../bencode/index.js';
import { formatMagnet } from '../metainfo/index.js';
import { fromHex } from '../util/bytes.js';
import { IndexError } from './errors.js';

/**
 * An index entry: a torrent's info plus what its publisher says about it, signed by the
 * publisher's ed25519 key. The JSON shape on the wire is exactly {@link EntryBody}; the
 * signature covers {@link canonicalEntryBytes}, a bencoded dictionary (sorted keys, so one
 * encoding per entry) that starts with a domain tag so a signature can never be replayed as
 * another kind of message (a removal, or anything else a peerdrop key signs).
 */

/** One file of the torrent (padding files left out by the publisher). */
export interface EntryFile {
  readonly path: readonly string[];
  readonly length: number;
}

export interface EntryBody {
  /** v1 info-hash, 40 lowercase hex, or null for a pure v2 torrent. */
  readonly infoHash: string | null;
  /** v2 info-hash, 64 lowercase hex, or null for a pure v1 torrent. */
  readonly infoHashV2: string | null;
  readonly name: string;
  readonly files: readonly EntryFile[];
  readonly trackers: readonly string[];
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly category: string;
  /** Strictly increasing per entry: an update or removal must carry a larger `seq`. */
  readonly seq: number;
  /** ed25519 public key of the publisher, 64 lowercase hex. */
  readonly publisher: string;
}

/** A removal request: the owner's signed wish to remove an entry. */
export interface RemovalBody {
  readonly infoHash: string;
  readonly seq: number;
  readonly publisher: string;
}

export interface SignedEntry {
  readonly entry: EntryBody;
  /** ed25519 signature over {@link canonicalEntryBytes}, 128 lowercase hex. */
  readonly signature: string;
}

export interface SignedRemoval {
  readonly removal: RemovalBody;
  readonly signature: string;
}

/** Limits checked before anything from a request is stored. */
export const ENTRY_LIMITS = {
  maxNameChars: 1024,
  maxTitleChars: 300,
  maxDescriptionChars: 10_000,
  maxTags: 20,
  maxTagChars: 40,
  maxFiles: 10_000,
  maxPathComponents: 64,
  maxPathChars: 4096,
  maxTrackers: 50,
  maxTrackerChars: 2048,
} as const;

const HEX40 = /^[0-9a-f]{40}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;
const CATEGORY = /^[a-z0-9][a-z0-9-]{0,31}$/;
// Printable ASCII only: a tracker URL is machine text, and non-ASCII in it only serves to spoof.
const TRACKER = /^(https?|udp):\/\/[^\s/?#]+[^\s]*$/i;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

export const CATEGORIES = ['audio', 'video', 'software', 'books', 'images', 'data', 'games', 'other'];

/*
 * Text rules. Every text field is checked against one list of refused code points, and the
 * canonical form (below) is what a publisher signs and what the index requires; nothing is
 * normalised by the server, so the stored value is always exactly the signed one.
 *
 * Refused: lone surrogates (they become U+FFFD in UTF-8, so the signed bytes would differ from
 * the stored string), C0/DEL/C1 controls (terminal escapes; tab and newline only in the
 * description), format characters (Cf: bidi embeddings/overrides/isolates U+202A–202E and
 * U+2066–2069 that make `exe.txt` out of `txt.exe`, zero-width spaces, word joiners, BOM, tag
 * characters that smuggle invisible text), line/paragraph separators, noncharacters, and the
 * Hangul fillers that render as blank "letters". Allowed among the format characters, because
 * real text needs them: soft hyphen, ZWNJ and ZWJ (Persian, Indic scripts, emoji sequences),
 * and the weak direction marks LRM, RLM, ALM (they cannot reorder letters).
 */
const SUSPECT = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Noncharacter_Code_Point}\u3164\uFFA0]/gu;
const ALLOWED_FORMAT = new Set([0xad, 0x200c, 0x200d, 0x200e, 0x200f, 0x61c]);
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;

function describeCodePoint(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (cp >= 0xd800 && cp <= 0xdfff) return `a lone surrogate (${hex})`;
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return `a control character (${hex})`;
  if (BIDI_CONTROL.test(ch)) return `a bidi control character (${hex})`;
  return `an invisible or format character (${hex})`;
}

/** The first refused code point of `text`, described for an error message; null if none. */
export function refusedCharacter(text: string, allowLineBreaks = false): string | null {
  for (const m of text.matchAll(SUSPECT)) {
    const ch = m[0];
    const cp = ch.codePointAt(0) ?? 0;
    if (ALLOWED_FORMAT.has(cp)) continue;
    if (allowLineBreaks && (ch === '\n' || ch === '\t')) continue;
    return describeCodePoint(ch);
  }
  return null;
}

/** A single-line field (title, tag): NFC, ASCII whitespace runs as one space, trimmed. */
function canonicalLine(v: string): string {
  return v
    .replace(/[\t\n\r\f\v ]+/g, ' ')
    .trim()
    .normalize('NFC');
}

/** The description: NFC, line breaks as `\n`, trimmed. */
function canonicalDescription(v: string): string {
  return v.replace(/\r\n?/g, '\n').trim().normalize('NFC');
}

/** A tag: a canonical line in lower case (tags are matched case-insensitively). */
export function canonicalTag(v: string): string {
  return canonicalLine(v).toLowerCase().normalize('NFC');
}

function invalid(message: string): IndexError {
  return new IndexError('ENTRY_INVALID', message);
}

function notCanonical(field: string, how: string): IndexError {
  return new IndexError(
    'ENTRY_NOT_CANONICAL',
    `${field} is not in canonical form (${how}); sign the canonical entry`,
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkChars(field: string, v: string, allowLineBreaks = false): void {
  const bad = refusedCharacter(v, allowLineBreaks);
  if (bad !== null) throw invalid(`${field} contains ${bad}`);
}

function text(
  o: Record<string, unknown>,
  key: string,
  max: number,
  { allowEmpty = true, allowLineBreaks = false } = {},
): string {
  const v = o[key] ?? '';
  if (typeof v !== 'string') throw invalid(`${key} must be a string`);
  if (v.length > max) throw invalid(`${key} is longer than ${max} characters`);
  if (!allowEmpty && v.trim() === '') throw invalid(`${key} must not be empty`);
  checkChars(key, v, allowLineBreaks);
  return v;
}

function hashField(o: Record<string, unknown>, key: string, re: RegExp): string | null {
  const v = o[key] ?? null;
  if (v === null) return null;
  if (typeof v !== 'string' || !re.test(v))
    throw invalid(`${key} must be lowercase hex of the right length, or null`);
  return v;
}

function seqField(o: Record<string, unknown>): number {
  const v = o.seq;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw invalid('seq must be a positive safe integer');
  return v;
}

function publisherField(o: Record<string, unknown>): string {
  const v = o.publisher;
  if (typeof v !== 'string' || !HEX64.test(v)) throw invalid('publisher must be a 64-hex ed25519 public key');
  return v;
}

function pathComponent(i: number, c: unknown): string {
  if (typeof c !== 'string' || c === '' || c === '.' || c === '..' || c.includes('/'))
    throw invalid(`files[${i}].path has an unsafe component`);
  checkChars(`files[${i}].path`, c);
  return c;
}

function parseFiles(v: unknown): EntryFile[] {
  if (!Array.isArray(v) || v.length === 0) throw invalid('files must be a non-empty array');
  if (v.length > ENTRY_LIMITS.maxFiles) throw invalid(`more than ${ENTRY_LIMITS.maxFiles} files`);
  let total = 0;
  return v.map((f: unknown, i) => {
    if (!isRecord(f)) throw invalid(`files[${i}] must be an object`);
    const { path, length } = f;
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0)
      throw invalid(`files[${i}].length must be a non-negative safe integer`);
    total += length;
    if (!Number.isSafeInteger(total)) throw invalid('total size is too large');
    if (!Array.isArray(path) || path.length === 0 || path.length > ENTRY_LIMITS.maxPathComponents)
      throw invalid(
        `files[${i}].path must be a non-empty array of at most ${ENTRY_LIMITS.maxPathComponents} names`,
      );
    let chars = 0;
    for (const c of path) chars += pathComponent(i, c).length;
    if (chars > ENTRY_LIMITS.maxPathChars) throw invalid(`files[${i}].path is too long`);
    return { path: path as string[], length };
  });
}

function parseTags(v: unknown): string[] {
  const tags = v ?? [];
  if (!Array.isArray(tags) || tags.length > ENTRY_LIMITS.maxTags)
    throw invalid(`tags must be an array of at most ${ENTRY_LIMITS.maxTags} strings`);
  for (const [i, t] of tags.entries()) {
    if (typeof t !== 'string' || t.trim() === '' || t.length > ENTRY_LIMITS.maxTagChars)
      throw invalid(`each tag must be a non-empty string of at most ${ENTRY_LIMITS.maxTagChars} characters`);
    checkChars(`tags[${i}]`, t);
  }
  return tags as string[];
}

function parseTrackers(v: unknown): string[] {
  const list = v ?? [];
  if (!Array.isArray(list) || list.length > ENTRY_LIMITS.maxTrackers)
    throw invalid(`trackers must be an array of at most ${ENTRY_LIMITS.maxTrackers} URLs`);
  for (const t of list) {
    if (
      typeof t !== 'string' ||
      t.length > ENTRY_LIMITS.maxTrackerChars ||
      !TRACKER.test(t) ||
      !PRINTABLE_ASCII.test(t)
    )
      throw invalid('each tracker must be an http(s):// or udp:// URL of printable ASCII');
  }
  return list as string[];
}

/**
 * Validate an untrusted `entry` object (from JSON). Throws `ENTRY_INVALID` naming the field.
 * Nothing is normalised: the result holds exactly the received values, so the signature is
 * checked over what was sent; {@link assertCanonicalEntry} then refuses a non-canonical one.
 */
export function parseEntryBody(v: unknown): EntryBody {
  if (!isRecord(v)) throw invalid('entry must be an object');
  const infoHash = hashField(v, 'infoHash', HEX40);
  const infoHashV2 = hashField(v, 'infoHashV2', HEX64);
  if (infoHash === null && infoHashV2 === null) throw invalid('an entry needs infoHash, infoHashV2 or both');
  const category = v.category ?? 'other';
  if (typeof category !== 'string' || !CATEGORY.test(category))
    throw invalid('category must match [a-z0-9][a-z0-9-]{0,31}');
  return {
    infoHash,
    infoHashV2,
    name: text(v, 'name', ENTRY_LIMITS.maxNameChars, { allowEmpty: false }),
    files: parseFiles(v.files),
    trackers: parseTrackers(v.trackers),
    title: text(v, 'title', ENTRY_LIMITS.maxTitleChars),
    description: text(v, 'description', ENTRY_LIMITS.maxDescriptionChars, { allowLineBreaks: true }),
    tags: parseTags(v.tags),
    category,
    seq: seqField(v),
    publisher: publisherField(v),
  };
}

/** The fields of an entry that have a canonical form (everything but hashes, seq, publisher). */
type TextFields = Pick<
  EntryBody,
  'name' | 'files' | 'trackers' | 'title' | 'description' | 'tags' | 'category'
>;

/**
 * The canonical form of an entry, which a publisher signs: every text NFC; title and tags on
 * one line (whitespace runs as one space) and trimmed; tags lower case, without duplicates
 * (first kept); the description trimmed with `\n` line breaks; the category lower case.
 * Name and file paths are only NFC'd (they are the torrent's own names). Refused characters
 * are left in place for {@link parseEntryBody} to report: canonicalising never hides them.
 */
export function canonicalizeEntry<T extends TextFields>(e: T): T {
  const tags: string[] = [];
  for (const t of e.tags) {
    const c = canonicalTag(t);
    if (c !== '' && !tags.includes(c)) tags.push(c);
  }
  return {
    ...e,
    name: e.name.normalize('NFC'),
    files: e.files.map((f) => ({ ...f, path: f.path.map((c) => c.normalize('NFC')) })),
    trackers: e.trackers.map((t) => t.trim()),
    title: canonicalLine(e.title),
    description: canonicalDescription(e.description),
    tags,
    category: e.category.trim().toLowerCase(),
  };
}

/**
 * Throws `ENTRY_NOT_CANONICAL` naming the first field that {@link canonicalizeEntry} would
 * change. The index calls it after the signature check, on an entry from
 * {@link parseEntryBody} (so every string is already known to be well formed).
 */
export function assertCanonicalEntry(e: EntryBody): void {
  if (e.name !== e.name.normalize('NFC')) throw notCanonical('name', 'not NFC');
  for (const [i, f] of e.files.entries())
    if (f.path.some((c) => c !== c.normalize('NFC'))) throw notCanonical(`files[${i}].path`, 'not NFC');
  if (e.title !== canonicalLine(e.title))
    throw notCanonical('title', 'not NFC, untrimmed, or with tabs, line breaks or repeated spaces');
  if (e.description !== canonicalDescription(e.description))
    throw notCanonical('description', 'not NFC, untrimmed, or with \\r line breaks');
  const seen = new Set<string>();
  for (const [i, t] of e.tags.entries()) {
    if (t !== canonicalTag(t)) throw notCanonical(`tags[${i}]`, 'not lower case, NFC and trimmed');
    if (seen.has(t)) throw notCanonical(`tags[${i}]`, `a duplicate of "${t}"`);
    seen.add(t);
  }
}

function signatureField(v: Record<string, unknown>): string {
  const s = v.signature;
  if (typeof s !== 'string' || !HEX128.test(s))
    throw new IndexError('BAD_SIGNATURE', 'signature must be 128 hex');
  return s;
}

/**
 * Validate a `{ entry, signature }` request body (shape and characters; the signature and then
 * the canonical form are checked later, by the caller).
 */
export function parseSignedEntry(v: unknown): SignedEntry {
  if (!isRecord(v)) throw new IndexError('BAD_REQUEST', 'body must be a JSON object { entry, signature }');
  return { entry: parseEntryBody(v.entry), signature: signatureField(v) };
}

/** Validate a `{ removal, signature }` request body. */
export function parseSignedRemoval(v: unknown): SignedRemoval {
  if (!isRecord(v) || !isRecord(v.removal))
    throw new IndexError('BAD_REQUEST', 'body must be a JSON object { removal, signature }');
  const r = v.removal;
  const infoHash = r.infoHash;
  if (typeof infoHash !== 'string' || !(HEX40.test(infoHash) || HEX64.test(infoHash)))
    throw invalid('removal.infoHash must be 40 or 64 lowercase hex');
  return {
    removal: { infoHash, seq: seqField(r), publisher: publisherField(r) },
    signature: signatureField(v),
  };
}

function hexBytes(hex: string | null): Uint8Array | undefined {
  return hex === null ? undefined : (fromHex(hex) ?? undefined);
}

/** The exact bytes a publisher signs for an entry (bencode: sorted keys, UTF-8 strings). */
export function canonicalEntryBytes(e: EntryBody): Uint8Array {
  return encode({
    type: 'peerdrop-index-entry-v1',
    category: e.category,
    description: e.description,
    files: e.files.map((f) => ({ length: f.length, path: [...f.path] })),
    'info-hash': hexBytes(e.infoHash),
    'info-hash-v2': hexBytes(e.infoHashV2),
    name: e.name,
    publisher: hexBytes(e.publisher) ?? new Uint8Array(0),
    seq: e.seq,
    tags: [...e.tags],
    title: e.title,
    trackers: [...e.trackers],
  });
}

/** The exact bytes an owner signs to remove an entry. */
export function canonicalRemovalBytes(r: RemovalBody): Uint8Array {
  return encode({
    type: 'peerdrop-index-removal-v1',
    'info-hash': hexBytes(r.infoHash) ?? new Uint8Array(0),
    publisher: hexBytes(r.publisher) ?? new Uint8Array(0),
    seq: r.seq,
  });
}

/** The key an entry is stored under: its v1 hash if it has one, else its v2 hash. */
export function entryId(e: { readonly infoHash: string | null; readonly infoHashV2: string | null }): string {
  const id = e.infoHash ?? e.infoHashV2;
  if (id === null) throw invalid('an entry needs infoHash, infoHashV2 or both');
  return id;
}

export function totalSize(files: readonly EntryFile[]): number {
  let n = 0;
  for (const f of files) n += f.length;
  return n;
}

/** A magnet link for an entry: both hashes, display name, exact length, trackers. */
export function entryMagnet(e: Pick<EntryBody, 'infoHash' | 'infoHashV2' | 'name' | 'trackers'>): string {
  return formatMagnet({
    infoHash: hexBytes(e.infoHash) ?? null,
    infoHashV2: hexBytes(e.infoHashV2) ?? null,
    name: e.name,
    trackers: e.trackers,
    webSeeds: [],
    peers: [],
  });
}

/** Normalise a user-supplied hash (path parameter or CLI argument); null if not 40/64 hex. */
export function normalizeHashParam(text: string): string | null {
  const h = text.toLowerCase();
  return HEX40.test(h) || HEX64.test(h) ? h : null;
}
