import { BencodeError } from '../bencode/errors.js';
import { StorageError } from '../storage/errors.js';
import { errorMessage, PeerdropError } from '../util/errors.js';
import { sanitizeForTerminal } from '../util/terminal-text.js';

/**
 * Every failure the CLI prints goes through `describeError`: one line, in words a user
 * understands, naming the path or address involved, and ending with the stable code in
 * parentheses for scripts (`… (ENOSPC)`, `… (BENCODE_UNEXPECTED_BYTE)`). Text that may come
 * from a peer, tracker, index or file name is made safe for the terminal here, once.
 */

/** errno codes in words (what `strerror` says, shortened to what a user can act on). */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for this file system',
  ENOTDIR: 'a file, not a folder, is in the way',
  EISDIR: 'it is a folder, not a file',
  EEXIST: 'something is already there',
  ENOTEMPTY: 'the folder is not empty',
  ELOOP: 'too many levels of symbolic links (a symlink loop)',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files (raise `ulimit -n`)',
  ENFILE: 'too many open files on this system',
  EIO: 'input/output error (a failing disk or network mount?)',
  EBUSY: 'the file or device is busy',
  ENXIO: 'no such device',
  ENODEV: 'no such device',
  EXDEV: 'cannot move across file systems',
  EADDRINUSE: 'the port is already in use',
  EADDRNOTAVAIL: 'that address is not one of this machine’s',
  ECONNREFUSED: 'connection refused (nothing listening there?)',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (no network or DNS?)',
};

/** `syscall`/operation names in words, for "cannot <verb> <path>". */
const VERBS: Readonly<Record<string, string>> = {
  open: 'open',
  create: 'create',
  mkdir: 'create folder',
  read: 'read',
  write: 'write',
  truncate: 'resize',
  stat: 'look at',
  lstat: 'look at',
  sync: 'flush',
  fsync: 'flush',
  rename: 'rename',
  unlink: 'remove',
  rmdir: 'remove folder',
  scandir: 'list folder',
  opendir: 'list folder',
  readdir: 'list folder',
  copyfile: 'copy',
  access: 'access',
  realpath: 'resolve',
  resolve: 'resolve',
  hash: 'hash',
  listen: 'listen on',
  bind: 'listen on',
  connect: 'connect to',
  getaddrinfo: 'look up',
};

/** An errno code in words with the code kept: `read-only file system (EROFS)`. */
export function errnoInWords(code: string | undefined, fallback = 'failed'): string {
  if (code === undefined) return fallback;
  const words = ERRNO_WORDS[code];
  return words ? `${words} (${code})` : code;
}

export interface DescribedError {
  /** One line, safe for a terminal, ending with the code when there is one. */
  readonly message: string;
  /** The stable code (`ENOSPC`, `STORAGE_DISK_FULL`, `BENCODE_UNEXPECTED_BYTE`…), or null. */
  readonly code: string | null;
}

/** What went wrong, with which path, in words; the code kept for scripts. */
export function describeError(err: unknown): DescribedError {
  const safe = (s: string) => sanitizeForTerminal(s, { maxChars: 2000 });
  if (err instanceof StorageError) {
    const errno = err.errno;
    // The raw form `storageErrorFrom` makes (`write /x: ENOSPC`) becomes a sentence; messages
    // already written in words (such as `makeDirs`' "cannot create folder …") are kept.
    const isRaw = err.path !== undefined && err.message === `${err.operation} ${err.path}: ${errno}`;
    if (isRaw && errno !== undefined) {
      const verb = VERBS[err.operation ?? ''] ?? err.operation ?? 'use';
      return { message: safe(`cannot ${verb} ${err.path}: ${errnoInWords(errno)}`), code: errno };
    }
    const tail = errno !== undefined && !err.message.includes(`(${errno})`) ? ` (${errno})` : '';
    return { message: safe(`${err.message}${tail}`), code: errno ?? err.code };
  }
  if (err instanceof PeerdropError) {
    const tail = err.message.endsWith(`(${err.code})`) ? '' : ` (${err.code})`;
    return { message: safe(`${err.message}${tail}`), code: err.code };
  }
  const e = err as
    | (NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string; dest?: string })
    | undefined;
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.syscall === 'string') {
    const verb = VERBS[e.syscall] ?? e.syscall;
    const where =
      e.path ??
      (e.address === undefined ? e.hostname : `${e.address}${e.port === undefined ? '' : `:${e.port}`}`);
    const what = where === undefined ? '' : ` ${where}`;
    const dest = e.dest === undefined ? '' : ` to ${e.dest}`;
    return { message: safe(`cannot ${verb}${what}${dest}: ${errnoInWords(e.code)}`), code: e.code };
  }
  const code = typeof e?.code === 'string' ? e.code : null;
  return { message: safe(`${errorMessage(err)}${code ? ` (${code})` : ''}`), code };
}

/**
 * A file given as a torrent that does not parse: say it is not a torrent file, naming it, and
 * keep the parser's detail (offset, code) for whoever wants it.
 */
export function notATorrentError(path: string, err: unknown): unknown {
  if (err instanceof BencodeError)
    return new PeerdropError(
      err.code,
      `${path} is not a .torrent file (${err.message}); give a .torrent file or a magnet: link`,
    );
  if (err instanceof PeerdropError) return new PeerdropError(err.code, `${path}: ${err.message}`);
  return err;
}
