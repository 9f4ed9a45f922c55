/**
 * Text that came from the network (an index's search results and error messages, a tracker's
 * failure reason, a torrent's names) is printed only through these functions. A hostile
 * server could otherwise move the cursor, rewrite earlier lines, set the window title, write
 * the clipboard (OSC 52), or hide and reorder text with bidi controls on the user's terminal.
 */

// Whole escape sequences are removed, payload included, so that nothing of an OSC (title,
// clipboard, hyperlink) or a DCS is left behind as stray text:
//   ESC [ params final        CSI (7-bit), and U+009B params final (8-bit CSI)
//   ESC ] … BEL | ESC \       OSC, and U+009D … (U+009C | BEL)
//   ESC P|X|^|_ … ESC \       DCS, SOS, PM, APC, and their 8-bit forms U+0090/98/9E/9F
//   ESC any                   any other two-character escape
// An unterminated string sequence runs to the end of the text (a terminal would swallow it too).
const ESCAPE_SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what this removes
  /(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]?|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[\s\S]*?(?:\u0007|\u001b\\|\u009c|$)|\u001b[\s\S]?/g;

// After the sequences: every other C0 and C1 control and DEL; bidi embeddings, overrides and
// isolates (U+202A–202E, U+2066–2069) and marks; invisible characters that hide or join text
// (zero-width space, word joiner, BOM, invisible operators, deprecated format characters,
// tag characters); line/paragraph separators; lone surrogates.
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\u{e0000}-\u{e007f}]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;

export interface TerminalTextOptions {
  /** Keep `\n` and tab (multi-line output such as a description); otherwise they become spaces. */
  readonly multiline?: boolean;
  /** Cut to this many characters (an ellipsis marks the cut); default: no limit. */
  readonly maxChars?: number;
}

/**
 * `text` made safe to write to a terminal: escape sequences removed whole, other control,
 * bidi and invisible characters removed, and (unless `multiline`) line breaks and tabs turned
 * into single spaces so that one value stays on one line.
 */
export function sanitizeForTerminal(text: string, options: TerminalTextOptions = {}): string {
  let out = text.replace(ESCAPE_SEQUENCE, '');
  // CR would return the cursor to the start of the line and overwrite what was printed.
  out = options.multiline ? out.replace(/\r\n?/g, '\n') : out.replace(/[\r\n\t]+/g, ' ');
  out = out.replace(UNSAFE, '');
  if (!options.multiline) out = out.replace(/ {2,}/g, ' ').trim();
  const max = options.maxChars;
  if (max !== undefined && out.length > max) out = `${out.slice(0, Math.max(0, max - 1))}…`;
  return out;
}

// Characters JSON.stringify leaves raw that a terminal acts on or that hide text; escaped as
// \uXXXX they are the same JSON value, so `--json` output stays exact for programs.
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/** Pretty JSON with every terminal-unsafe character escaped (the value is unchanged). */
export function jsonForTerminal(value: unknown, replacer?: (key: string, value: unknown) => unknown): string {
  return escapeJsonForTerminal(JSON.stringify(value, replacer as never, 2));
}

/** Escape, as `\\uXXXX`, the characters of JSON text a terminal would act on (the value is unchanged). */
export function escapeJsonForTerminal(json: string): string {
  return json.replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
