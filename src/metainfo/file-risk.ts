/**
 * Signs that a file in a torrent pretends to be something it is not, the classic P2P malware
 * tricks: a misleading double extension (`film.mp4.exe`), bidirectional-text controls that
 * make `gpj.exe` read as `exe.jpg`, and content whose first bytes are a program (or another
 * type) under a media extension. Pure: names and first bytes in, flags with stable codes out.
 * These are warnings for people, not a verdict: nothing is blocked.
 */

export type FileRiskCode = 'DOUBLE_EXTENSION' | 'BIDI_CONTROL' | 'EXECUTABLE_NAME' | 'CONTENT_MISMATCH';

export interface FileRisk {
  readonly code: FileRiskCode;
  /** Path inside the torrent, `/`-joined, with control characters shown as `\u{…}`. */
  readonly path: string;
  readonly message: string;
}

/** Extensions that run code when opened on common systems. */
const EXECUTABLE = new Set(
  'exe com scr pif bat cmd vbs vbe js jse wsf wsh msi msp hta cpl jar ps1 lnk reg app apk dmg deb rpm sh run bin elf'.split(
    ' ',
  ),
);
/** Extensions people open without a second thought: a program disguised as one is the trick. */
const MEDIA_OR_DOCUMENT = new Set(
  'mp4 mkv avi mov wmv webm m4v mpg mpeg flv mp3 flac wav ogg m4a aac opus jpg jpeg png gif bmp webp tiff pdf doc docx xls xlsx ppt pptx txt rtf epub srt sub zip rar 7z iso'.split(
    ' ',
  ),
);

/** Unicode bidi controls (U+202A–U+202E, U+2066–U+2069) and the marks U+200E/U+200F, U+061C. */
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u;
const BIDI_ALL = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/gu;

function visible(path: string): string {
  return path.replace(BIDI_ALL, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

function extensions(name: string): string[] {
  const parts = name.toLowerCase().split('.');
  return parts.length <= 1 ? [] : parts.slice(1).map((p) => p.trim());
}

/** Risks visible from a file's path alone. */
export function nameRisks(pathComponents: readonly string[]): FileRisk[] {
  const path = pathComponents.join('/');
  const shown = visible(path);
  const out: FileRisk[] = [];
  if (BIDI.test(path))
    out.push({
      code: 'BIDI_CONTROL',
      path: shown,
      message:
        'the name contains right-to-left or other bidirectional control characters that can disguise its real extension',
    });
  const name = (pathComponents.at(-1) ?? '').replace(BIDI_ALL, '');
  const exts = extensions(name);
  const last = exts.at(-1);
  if (last !== undefined && EXECUTABLE.has(last)) {
    const before = exts.slice(0, -1).filter((e) => MEDIA_OR_DOCUMENT.has(e));
    if (before.length > 0)
      out.push({
        code: 'DOUBLE_EXTENSION',
        path: shown,
        message: `looks like a .${before.at(-1)} file but is a .${last} program`,
      });
  }
  return out;
}

/** The type a file's first bytes show, when they show one we know. */
export function sniffType(head: Uint8Array): string | null {
  const at = (offset: number, ...bytes: number[]) => bytes.every((b, i) => head[offset + i] === b);
  if (at(0, 0x4d, 0x5a)) return 'windows-executable';
  if (at(0, 0x7f, 0x45, 0x4c, 0x46)) return 'elf-executable';
  if (at(0, 0xcf, 0xfa, 0xed, 0xfe) || at(0, 0xca, 0xfe, 0xba, 0xbe)) return 'macho-executable';
  if (at(0, 0x23, 0x21)) return 'script';
  if (at(0, 0x50, 0x4b, 0x03, 0x04)) return 'zip';
  if (at(0, 0x52, 0x61, 0x72, 0x21)) return 'rar';
  if (at(0, 0x37, 0x7a, 0xbc, 0xaf)) return '7z';
  if (at(0, 0x25, 0x50, 0x44, 0x46)) return 'pdf';
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return 'png';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'gif';
  if (at(0, 0x1a, 0x45, 0xdf, 0xa3)) return 'matroska';
  if (at(4, 0x66, 0x74, 0x79, 0x70)) return 'mp4';
  if (at(0, 0x52, 0x49, 0x46, 0x46)) return 'riff';
  if (at(0, 0x49, 0x44, 0x33) || at(0, 0xff, 0xfb)) return 'mp3';
  if (at(0, 0x66, 0x4c, 0x61, 0x43)) return 'flac';
  if (at(0, 0x4f, 0x67, 0x67, 0x53)) return 'ogg';
  return null;
}

/** Which sniffed types each extension may honestly have (unknown content is never flagged). */
const EXPECTED: Readonly<Record<string, readonly string[]>> = {
  mp4: ['mp4'],
  m4v: ['mp4'],
  mov: ['mp4'],
  m4a: ['mp4'],
  mkv: ['matroska'],
  webm: ['matroska'],
  avi: ['riff'],
  wav: ['riff'],
  webp: ['riff'],
  mp3: ['mp3'],
  flac: ['flac'],
  ogg: ['ogg'],
  opus: ['ogg'],
  jpg: ['jpeg'],
  jpeg: ['jpeg'],
  png: ['png'],
  gif: ['gif'],
  pdf: ['pdf'],
  zip: ['zip'],
  docx: ['zip'],
  xlsx: ['zip'],
  pptx: ['zip'],
  epub: ['zip'],
  rar: ['rar'],
  '7z': ['7z'],
  txt: [],
  srt: [],
  sub: [],
};
const PROGRAMS = new Set(['windows-executable', 'elf-executable', 'macho-executable', 'script']);

/** A content type that does not match the extension, judged from the file's first bytes. */
export function contentRisk(pathComponents: readonly string[], head: Uint8Array): FileRisk | null {
  const ext = extensions((pathComponents.at(-1) ?? '').replace(BIDI_ALL, '')).at(-1);
  if (ext === undefined) return null;
  const expected = EXPECTED[ext];
  if (expected === undefined) return null;
  const found = sniffType(head);
  if (found === null || expected.includes(found)) return null;
  // Text files legitimately start with "#!"-free anything; only programs are worth a flag there.
  if (expected.length === 0 && !PROGRAMS.has(found)) return null;
  return {
    code: 'CONTENT_MISMATCH',
    path: visible(pathComponents.join('/')),
    message: PROGRAMS.has(found)
      ? `named .${ext} but its content is a program (${found})`
      : `named .${ext} but its content is ${found}`,
  };
}
