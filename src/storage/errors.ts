import { PeerdropError } from '../util/errors.js';

/**
 * Every way storage can fail. Environment failures (`DISK_FULL`, `PERMISSION`, `READ_ONLY`,
 * `PATH_CONFLICT`, `IO`) mean "pause the torrent and tell the user"; the data that failed to
 * be written is never counted as verified.
 */
export type StorageErrorCode =
  /** ENOSPC, EDQUOT. */
  | 'STORAGE_DISK_FULL'
  /** EACCES, EPERM. */
  | 'STORAGE_PERMISSION'
  /** EROFS. */
  | 'STORAGE_READ_ONLY'
  /** ENOTDIR, EISDIR, EEXIST: something of the wrong kind is in the way of a torrent path. */
  | 'STORAGE_PATH_CONFLICT'
  /** EMFILE, ENFILE: out of file descriptors. */
  | 'STORAGE_TOO_MANY_OPEN_FILES'
  /** EIO and anything unrecognised. */
  | 'STORAGE_IO'
  /** A torrent path was refused by `safeJoin` (it would leave the download folder). */
  | 'STORAGE_UNSAFE_PATH'
  /** Hashing was asked to read data that does not exist (missing or short file). */
  | 'STORAGE_MISSING_DATA'
  /** A piece, block or file index outside the torrent. */
  | 'STORAGE_OUT_OF_RANGE'
  /** The storage or hash pool was used after `close()`. */
  | 'STORAGE_CLOSED'
  /** A hash worker died or sent something unexpected. */
  | 'STORAGE_HASH_WORKER_FAILED'
  /** A resume file that cannot be trusted (torn, foreign, corrupt). */
  | 'STORAGE_BAD_RESUME';

/** The operation that failed (libtorrent's `operation_t`), for the user-facing message. */
export type StorageOperation =
  | 'open'
  | 'create'
  | 'mkdir'
  | 'read'
  | 'write'
  | 'truncate'
  | 'stat'
  | 'sync'
  | 'rename'
  | 'hash'
  | 'resolve';

export class StorageError extends PeerdropError {
  declare readonly code: StorageErrorCode;
  /** The filesystem path involved, when there is one. */
  readonly path: string | undefined;
  readonly operation: StorageOperation | undefined;
  /** The errno code (`ENOSPC`…) of the underlying failure, when there is one. */
  readonly errno: string | undefined;

  constructor(
    code: StorageErrorCode,
    message: string,
    details: { path?: string; operation?: StorageOperation; errno?: string; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.path = details.path;
    this.operation = details.operation;
    this.errno = details.errno;
  }
}

const ERRNO_CODES: Readonly<Record<string, StorageErrorCode>> = {
  ENOSPC: 'STORAGE_DISK_FULL',
  EDQUOT: 'STORAGE_DISK_FULL',
  EFBIG: 'STORAGE_DISK_FULL',
  EACCES: 'STORAGE_PERMISSION',
  EPERM: 'STORAGE_PERMISSION',
  EROFS: 'STORAGE_READ_ONLY',
  ENOTDIR: 'STORAGE_PATH_CONFLICT',
  EISDIR: 'STORAGE_PATH_CONFLICT',
  EEXIST: 'STORAGE_PATH_CONFLICT',
  EMFILE: 'STORAGE_TOO_MANY_OPEN_FILES',
  ENFILE: 'STORAGE_TOO_MANY_OPEN_FILES',
};

/**
 * Turn a failed fs call into a `StorageError` naming the path and the operation. A value that
 * is already a `StorageError` passes through unchanged.
 */
export function storageErrorFrom(err: unknown, path: string, operation: StorageOperation): StorageError {
  if (err instanceof StorageError) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const code = (errno && ERRNO_CODES[errno]) || 'STORAGE_IO';
  const reason = errno ?? (err instanceof Error ? err.message : String(err));
  return new StorageError(code, `${operation} ${path}: ${reason}`, { path, operation, errno, cause: err });
}
