/**
 * Pure rules that decide whether a torrent path may become a file path (no fs here; the final
 * check against the real folder is `src/storage/safe-join.ts`).
 *
 * One portable rule set, the same on every OS, because a torrent made on one system is
 * downloaded on all of them. `checkPath` refuses what is *unsafe or ambiguous* anywhere:
 *  - traversal and aliasing: `..`, `.`, empty components, `/` or `\` inside a component,
 *    absolute paths, drive letters and any `:` (NTFS alternate data streams: `a:b` writes into
 *    file `a`), trailing dots or spaces (Windows strips them, so `a.` would alias `a`);
 *  - NUL and control characters (0x00-0x1F, 0x7F), which terminals and C APIs misread;
 *  - Windows reserved device names (CON, PRN, AUX, NUL, COM1-9, LPT1-9, also `nul.txt`), any case;
 *  - a component over 255 UTF-8 bytes, a path over `MAX_PATH_BYTES` or deeper than `MAX_PATH_DEPTH`.
 * Characters that are merely invalid on Windows (`< > " | ? *`) are accepted by `checkPath`
 * (creating such a file fails cleanly, nothing is overwritten) and replaced by `sanitizeComponent`.
 *
 * Duplicates are compared *case-insensitively after Unicode NFC normalisation*: on Windows and
 * macOS `A.txt` and `a.txt` (or a composed and a decomposed `é`) are the same file, so such a
 * torrent would silently overwrite its own data there. See `pathKey`.
 */

import { MetainfoError } from './errors.js';
import { MAX_COMPONENT_BYTES, MAX_PATH_BYTES, MAX_PATH_DEPTH } from './limits.js';

export { MAX_COMPONENT_BYTES, MAX_PATH_BYTES, MAX_PATH_DEPTH } from './limits.js';

const textEncoder = new TextEncoder();

/** UTF-8 length of a string without encoding it (lone surrogates count 3, as the encoder makes U+FFFD). */
export function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // a pair: 2 UTF-16 units, 4 bytes
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what we refuse
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what we replace
const REPLACE_CHARS = /[\u0000-\u001f\u007f/\\:<>"|?*]/g;
/** CON, PRN, AUX, NUL, COM1-9, LPT1-9 (and the superscript digits Windows also reserves), any extension. */
const RESERVED_NAME = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³])(\..*)?$/i;

/** A reason a single component is unsafe, or null if it is fine. */
export function checkComponent(component: string): string | null {
  if (component.length === 0) return 'empty path component';
  if (component === '.' || component === '..') return `"${component}" is not allowed`;
  if (component.includes('/')) return 'contains "/"';
  if (component.includes('\\')) return 'contains a backslash';
  if (CONTROL_CHARS.test(component)) return 'contains NUL or a control character';
  if (/^[a-z]:/i.test(component)) return 'looks like a drive letter';
  if (component.includes(':')) return 'contains ":" (an NTFS stream or drive separator)';
  if (/[. ]$/.test(component)) return 'ends with a dot or space (Windows strips them)';
  if (RESERVED_NAME.test(component)) return `"${component}" is a reserved device name on Windows`;
  if (utf8Length(component) > MAX_COMPONENT_BYTES) return `longer than ${MAX_COMPONENT_BYTES} UTF-8 bytes`;
  return null;
}

/** The first problem in a path: which component (-1 for the whole path) and why; null if safe. */
export function checkPath(components: readonly string[]): { index: number; reason: string } | null {
  if (components.length === 0) return { index: -1, reason: 'empty path' };
  if (components.length > MAX_PATH_DEPTH) return { index: -1, reason: `deeper than ${MAX_PATH_DEPTH}` };
  let bytes = components.length - 1;
  for (let i = 0; i < components.length; i++) {
    const c = components[i]!;
    const reason = checkComponent(c);
    if (reason) return { index: i, reason };
    bytes += utf8Length(c);
  }
  if (bytes > MAX_PATH_BYTES) return { index: -1, reason: `longer than ${MAX_PATH_BYTES} UTF-8 bytes` };
  return null;
}

/**
 * Throw `METAINFO_UNSAFE_PATH` naming the component, e.g.
 * `info.files[3].path[1]: ".." is not allowed`.
 */
export function assertSafePath(components: readonly string[], field: string): void {
  const problem = checkPath(components);
  if (problem) {
    const where = problem.index >= 0 ? `${field}[${problem.index}]` : field;
    throw new MetainfoError('METAINFO_UNSAFE_PATH', where, problem.reason);
  }
}

/** True if `checkPath` finds nothing wrong. */
export function isSafePath(components: readonly string[]): boolean {
  return checkPath(components) === null;
}

/**
 * Make one component safe: replace separators, control and Windows-invalid characters with
 * `_`, rename `.`/`..`/empty and reserved names, drop trailing dots/spaces, shorten to 255 bytes
 * keeping the extension. Idempotent, and `checkComponent(sanitizeComponent(c))` is always null.
 */
export function sanitizeComponent(component: string): string {
  let c = component.replace(REPLACE_CHARS, '_');
  if (c === '' || c === '.' || c === '..') return '_';
  c = c.replace(/[. ]+$/, '_');
  if (RESERVED_NAME.test(c)) c = `_${c}`;
  return truncateUtf8(c, MAX_COMPONENT_BYTES);
}

/** Shorten to at most `maxBytes` UTF-8 bytes without splitting a character; keeps a short extension. */
function truncateUtf8(text: string, maxBytes: number): string {
  if (textEncoder.encode(text).length <= maxBytes) return text;
  const dot = text.lastIndexOf('.');
  const ext = dot > 0 && text.length - dot <= 16 ? text.slice(dot) : '';
  let stem = '';
  let used = textEncoder.encode(ext).length;
  for (const ch of text.slice(0, text.length - ext.length)) {
    const n = textEncoder.encode(ch).length;
    if (used + n > maxBytes) break;
    stem += ch;
    used += n;
  }
  const out = stem + ext;
  // A cut can leave a trailing dot/space in the stem; the extension (if any) ends the name.
  return /[. ]$/.test(out) ? `${out.slice(0, -1)}_` : out;
}

/** Sanitize every component; an empty path becomes `['_']`; over-deep paths are flattened. */
export function sanitizePath(components: readonly string[]): string[] {
  const parts = components.length === 0 ? ['_'] : components.map(sanitizeComponent);
  if (parts.length > MAX_PATH_DEPTH) {
    const rest = sanitizeComponent(parts.slice(MAX_PATH_DEPTH - 1).join('_'));
    parts.splice(MAX_PATH_DEPTH - 1, parts.length, rest);
  }
  while (textEncoder.encode(parts.join('/')).length > MAX_PATH_BYTES && parts.length > 1) {
    const last = parts.pop()!;
    parts[parts.length - 1] = sanitizeComponent(`${parts[parts.length - 1]}_${last}`);
  }
  return parts;
}

/**
 * The identity of a path on a case-insensitive, normalising filesystem (Windows, macOS): two
 * paths with the same key would be the same file there.
 */
export function pathKey(components: readonly string[]): string {
  let key = '';
  for (let i = 0; i < components.length; i++) key += (i === 0 ? '' : '/') + componentKey(components[i]!);
  return key;
}

/** NFC changes nothing in ASCII, so only other text pays for normalisation. */
function componentKey(component: string): string {
  for (let i = 0; i < component.length; i++) {
    if (component.charCodeAt(i) >= 0x80) return component.normalize('NFC').toLowerCase();
  }
  return component.toLowerCase();
}

/** Two paths that cannot both exist: the same file twice, or one is a file and a folder of the other. */
export interface PathConflict {
  readonly kind: 'duplicate' | 'file-and-folder';
  /** Index (in the given list) of the earlier path. */
  readonly first: number;
  /** Index of the later path that conflicts with it. */
  readonly second: number;
}

/**
 * Finds conflicts among paths added one at a time, in time linear in their total length: each
 * path's folder keys are built by extending the previous prefix, never by re-joining it.
 */
export class PathConflictFinder {
  private readonly files = new Map<string, number>();
  private readonly folders = new Map<string, number>();

  /** Keys of the current path's prefixes (reused: no array per path). */
  private readonly prefixes: string[] = [];

  /** Record path number `index`; the first conflict it makes with an earlier path, or null. */
  add(components: readonly string[], index: number): PathConflict | null {
    const prefixes = this.prefixes;
    let key = '';
    for (let depth = 0; depth < components.length; depth++) {
      key = depth === 0 ? componentKey(components[0]!) : `${key}/${componentKey(components[depth]!)}`;
      prefixes[depth] = key;
    }
    const dup = this.files.get(key) ?? this.folders.get(key);
    if (dup !== undefined)
      return { kind: this.files.has(key) ? 'duplicate' : 'file-and-folder', first: dup, second: index };
    this.files.set(key, index);
    for (let depth = 0; depth < components.length - 1; depth++) {
      const dir = prefixes[depth]!;
      const asFile = this.files.get(dir);
      if (asFile !== undefined) return { kind: 'file-and-folder', first: asFile, second: index };
      if (!this.folders.has(dir)) this.folders.set(dir, index);
    }
    return null;
  }
}

/**
 * Find the first conflict among file paths (compared with `pathKey`). `skip` excludes entries
 * (BEP 47 padding files never reach the disk, and libtorrent repeats `.pad/N` names).
 */
export function findPathConflict(
  paths: readonly (readonly string[])[],
  skip: (index: number) => boolean = () => false,
): PathConflict | null {
  const finder = new PathConflictFinder();
  for (let i = 0; i < paths.length; i++) {
    if (skip(i)) continue;
    const conflict = finder.add(paths[i]!, i);
    if (conflict) return conflict;
  }
  return null;
}

/**
 * Rename paths so that none conflicts (for the "show it made safe" mode): a later duplicate,
 * a file whose name is already a folder, or a folder whose name is already a file, gets
 * ` (1)`, ` (2)`… before its extension. Expects sanitized paths; returns a new list.
 */
export function resolvePathConflicts(
  paths: readonly (readonly string[])[],
  skip: (index: number) => boolean = () => false,
): string[][] {
  const files = new Set<string>();
  const folders = new Set<string>();
  return paths.map((original, i) => {
    const p = [...original];
    if (skip(i) || p.length === 0) return p;
    for (let d = 0; d < p.length; d++) {
      const isLast = d === p.length - 1;
      // Each loop ends: every rename yields a key not yet seen, after at most `paths.length` tries.
      for (let n = 1; isTaken(p.slice(0, d + 1), isLast, files, folders); n++) {
        p[d] = withSuffix(original[d]!, n);
      }
    }
    files.add(pathKey(p));
    for (let d = 1; d < p.length; d++) folders.add(pathKey(p.slice(0, d)));
    return p;
  });
}

function isTaken(
  prefix: readonly string[],
  isLast: boolean,
  files: Set<string>,
  folders: Set<string>,
): boolean {
  const key = pathKey(prefix);
  return files.has(key) || (isLast && folders.has(key));
}

function withSuffix(name: string, n: number): string {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return sanitizeComponent(`${stem} (${n})${ext}`);
}
