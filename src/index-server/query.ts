import { IndexError } from './errors.js';

/**
 * The search-string parser. A user's search never reaches FTS or SQL syntax raw: it becomes
 * a list of phrases (each a list of plain word tokens: letters and digits only), which each
 * backend renders with its own escaping and bound parameters.
 *
 * Grammar (everything else is a word separator):
 *   word           → a phrase of one token; `x264.mkv` → the phrase `x264 mkv`
 *   "some words"   → a phrase (an unterminated quote runs to the end)
 *   -word, -"a b"  → excluded
 * FTS operators (`AND`, `OR`, `NOT`, `NEAR`, `*`, `^`, `:`, parentheses) are therefore just
 * words or separators: `OR` is searched as the word "or".
 */

export const MAX_QUERY_CHARS = 256;
export const MAX_PHRASES = 12;
export const MAX_TOKENS_PER_PHRASE = 8;
export const MAX_TOKEN_CHARS = 64;

export type Phrase = readonly string[];

export interface ParsedQuery {
  /** Every phrase must match (AND). */
  readonly include: readonly Phrase[];
  /** No phrase may match. */
  readonly exclude: readonly Phrase[];
}

const TOKEN = /[\p{L}\p{N}]+/gu;

function tokens(text: string): string[] {
  const out: string[] = [];
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(TOKEN)) {
    const t = m[0];
    if (t.length > MAX_TOKEN_CHARS)
      throw new IndexError('QUERY_INVALID', `a word is longer than ${MAX_TOKEN_CHARS} characters`);
    out.push(t);
  }
  return out;
}

function isSeparator(ch: string): boolean {
  return /\s/u.test(ch);
}

/** Split into raw chunks: `{ text, quoted, negated }`, honouring quotes and a leading `-`. */
function chunks(q: string): { text: string; negated: boolean }[] {
  const out: { text: string; negated: boolean }[] = [];
  let i = 0;
  while (i < q.length) {
    const ch = q[i]!;
    if (isSeparator(ch)) {
      i++;
      continue;
    }
    let negated = false;
    if (ch === '-' && i + 1 < q.length && !isSeparator(q[i + 1]!)) {
      negated = true;
      i++;
    }
    if (q[i] === '"') {
      const end = q.indexOf('"', i + 1);
      const stop = end < 0 ? q.length : end;
      out.push({ text: q.slice(i + 1, stop), negated });
      i = stop + 1;
      continue;
    }
    let j = i;
    while (j < q.length && !isSeparator(q[j]!) && q[j] !== '"') j++;
    out.push({ text: q.slice(i, j), negated });
    i = j;
  }
  return out;
}

/**
 * Parse a user's search string. Throws only `IndexError` (`QUERY_TOO_LONG`, `QUERY_INVALID`).
 * An empty result (no include phrases) means "no text condition" (browse by filters).
 */
export function parseQuery(q: string): ParsedQuery {
  if (q.length > MAX_QUERY_CHARS)
    throw new IndexError('QUERY_TOO_LONG', `the query is longer than ${MAX_QUERY_CHARS} characters`);
  const include: Phrase[] = [];
  const exclude: Phrase[] = [];
  const seen = new Set<string>();
  for (const c of chunks(q)) {
    const toks = tokens(c.text);
    if (toks.length === 0) continue;
    if (toks.length > MAX_TOKENS_PER_PHRASE)
      throw new IndexError('QUERY_INVALID', `a phrase has more than ${MAX_TOKENS_PER_PHRASE} words`);
    const key = `${c.negated ? '-' : '+'}${toks.join(' ')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    (c.negated ? exclude : include).push(toks);
    if (include.length + exclude.length > MAX_PHRASES)
      throw new IndexError('QUERY_INVALID', `more than ${MAX_PHRASES} search terms`);
  }
  if (include.length === 0 && exclude.length > 0)
    throw new IndexError('QUERY_INVALID', 'a query needs at least one word that is not excluded');
  return { include, exclude };
}

/** Whether the query has a text condition at all. */
export function hasText(q: ParsedQuery): boolean {
  return q.include.length > 0;
}

/** An FTS5 string literal: double quotes, inner quotes doubled (tokens never hold one, but be safe). */
function fts5Phrase(p: Phrase): string {
  return `"${p.join(' ').replaceAll('"', '""')}"`;
}

/**
 * Render for SQLite FTS5 `MATCH ?` (still passed as a bound parameter): every phrase is a
 * quoted FTS5 string, so no token can act as an operator.
 */
export function toFts5(q: ParsedQuery): string {
  const inc = q.include.map(fts5Phrase).join(' AND ');
  if (q.exclude.length === 0) return inc;
  return `(${inc}) NOT (${q.exclude.map(fts5Phrase).join(' OR ')})`;
}

/**
 * Render for PostgreSQL: a tsquery expression whose every phrase is a bound parameter given to
 * `phraseto_tsquery` (which reads plain text, never operators). `firstParam` is the number of
 * the first `$n` to use; returns the SQL and the values to bind in order.
 */
export function toPgTsquery(
  q: ParsedQuery,
  firstParam: number,
  config: 'simple' | 'english' = 'simple',
): { sql: string; params: string[] } {
  const params: string[] = [];
  const render = (p: Phrase): string => {
    params.push(p.join(' '));
    return `phraseto_tsquery('${config}', $${firstParam + params.length - 1})`;
  };
  const inc = q.include.map(render).join(' && ');
  if (q.exclude.length === 0) return { sql: `(${inc})`, params };
  const exc = q.exclude.map(render).join(' || ');
  return { sql: `((${inc}) && !!(${exc}))`, params };
}

/**
 * Text as both backends index it: NFKC, lowercase, letter/digit runs joined by single spaces.
 * Indexing the same tokens the query parser produces keeps SQLite and PostgreSQL in agreement
 * (PostgreSQL's own parser would otherwise keep `crossing.mkv` as one "file" token).
 */
export function indexTokens(text: string): string {
  const out: string[] = [];
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(TOKEN)) out.push(m[0]);
  return out.join(' ');
}
