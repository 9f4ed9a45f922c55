import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { decodeUtf8Strict } from '../../util/bytes.js';
import { PeerdropError } from '../../util/errors.js';

/**
 * Finding the files of a new torrent. The rules match mktorrent 1.1 and libtorrent 2.0.8's
 * `add_files`, so that the same folder gives the same info-hash:
 * - hidden files (dot files) are included, except a `.peerdrop/` folder (peerdrop state);
 * - symbolic links are followed, to files and to folders (both tools do); a link that points
 *   back into its own ancestry is an error (`CREATE_SYMLINK_LOOP`), as is a dangling link;
 * - empty folders contribute nothing (a torrent lists files only); empty files are included;
 * - anything that is not a regular file or folder (FIFO, socket, device) is an error rather
 *   than silently skipped, as is a name that is not valid UTF-8 (a torrent path is UTF-8).
 */

export type CreateErrorCode =
  | 'CREATE_NOT_FOUND'
  | 'CREATE_NO_FILES'
  | 'CREATE_SYMLINK_LOOP'
  | 'CREATE_UNSUPPORTED_FILE'
  | 'CREATE_BAD_FILENAME'
  | 'CREATE_TOO_MANY_FILES'
  | 'CREATE_TOO_DEEP'
  | 'CREATE_IO';

/** Content that can't be made into a torrent (or read). */
export class CreateTorrentError extends PeerdropError {
  declare readonly code: CreateErrorCode;
  constructor(code: CreateErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The state folder older peerdrops wrote into download folders; left out of new torrents. */
export const STATE_FOLDER_NAME = '.peerdrop';

/** Most files in one torrent (the metainfo parser's limit). */
export const MAX_CREATE_FILES = 1_000_000;
/** Deepest folder nesting followed (the safe-path rules' depth limit). */
export const MAX_CREATE_DEPTH = 128;

export interface ContentFile {
  /** Components relative to the torrent's root folder; `[name]` for a single file. */
  readonly path: readonly string[];
  /** Where to read it. */
  readonly fsPath: string;
  readonly lengthBytes: number;
  /** Owner-executable bit (libtorrent writes BEP 47 `attr: x` for it in v2/hybrid). */
  readonly isExecutable: boolean;
}

export interface Content {
  /** The torrent's name: the file or folder's base name. */
  readonly name: string;
  readonly isSingleFile: boolean;
  /** In directory-walk order; callers sort them for the torrent version. */
  readonly files: readonly ContentFile[];
}

function ioError(err: unknown, path: string): CreateTorrentError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new CreateTorrentError('CREATE_NOT_FOUND', `no such file or folder: ${path}`);
  if (code === 'ELOOP') return new CreateTorrentError('CREATE_SYMLINK_LOOP', `symbolic link loop at ${path}`);
  return new CreateTorrentError('CREATE_IO', `cannot read ${path} (${code ?? 'error'})`, { cause: err });
}

async function statOrThrow(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (err) {
    throw ioError(err, path);
  }
}

/** Walk `inputPath` (a file or a folder) into the content of a new torrent. */
export async function walkContent(inputPath: string, signal?: AbortSignal): Promise<Content> {
  const root = resolve(inputPath);
  const name = basename(root);
  const st = await statOrThrow(root);
  if (st.isFile()) {
    return {
      name,
      isSingleFile: true,
      files: [{ path: [name], fsPath: root, lengthBytes: st.size, isExecutable: (st.mode & 0o100) !== 0 }],
    };
  }
  if (!st.isDirectory()) {
    throw new CreateTorrentError('CREATE_UNSUPPORTED_FILE', `not a regular file or folder: ${root}`);
  }
  const files: ContentFile[] = [];
  await walkDir(root, [], [`${st.dev}:${st.ino}`], files, signal);
  if (files.length === 0) throw new CreateTorrentError('CREATE_NO_FILES', `no files in ${root}`);
  return { name, isSingleFile: false, files };
}

async function walkDir(
  dir: string,
  prefix: readonly string[],
  ancestors: readonly string[],
  out: ContentFile[],
  signal: AbortSignal | undefined,
): Promise<void> {
  signal?.throwIfAborted();
  if (prefix.length >= MAX_CREATE_DEPTH) {
    throw new CreateTorrentError('CREATE_TOO_DEEP', `folders nested deeper than ${MAX_CREATE_DEPTH}: ${dir}`);
  }
  let names: Buffer[];
  try {
    names = await readdir(dir, { encoding: 'buffer' });
  } catch (err) {
    throw ioError(err, dir);
  }
  for (const raw of names) {
    const component = decodeUtf8Strict(raw);
    if (component === null) {
      throw new CreateTorrentError(
        'CREATE_BAD_FILENAME',
        `file name is not valid UTF-8 in ${dir}: ${raw.toString('hex')}`,
      );
    }
    const fsPath = join(dir, component);
    const st = await statOrThrow(fsPath);
    const path = [...prefix, component];
    // Older peerdrops kept resume state in a `.peerdrop/` folder beside the data: never share it.
    if (st.isDirectory() && component === STATE_FOLDER_NAME) continue;
    if (st.isDirectory()) {
      const id = `${st.dev}:${st.ino}`;
      if (ancestors.includes(id)) {
        throw new CreateTorrentError(
          'CREATE_SYMLINK_LOOP',
          `symbolic link loop: ${fsPath} leads back to a parent folder`,
        );
      }
      await walkDir(fsPath, path, [...ancestors, id], out, signal);
    } else if (st.isFile()) {
      if (out.length >= MAX_CREATE_FILES) {
        throw new CreateTorrentError('CREATE_TOO_MANY_FILES', `more than ${MAX_CREATE_FILES} files`);
      }
      out.push({ path, fsPath, lengthBytes: st.size, isExecutable: (st.mode & 0o100) !== 0 });
    } else {
      throw new CreateTorrentError('CREATE_UNSUPPORTED_FILE', `not a regular file or folder: ${fsPath}`);
    }
  }
}
