import { lstatSync, realpathSync } from 'node:fs';
import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { MetainfoError } from '../metainfo/errors.js';
import { assertSafePath } from '../metainfo/safe-path.js';
import { StorageError, storageErrorFrom } from './errors.js';

/**
 * The only place a torrent path becomes a filesystem path. `safeJoin` first applies the pure
 * rules (`metainfo/safe-path.ts`: no `..`, absolute paths, drive letters…), then resolves the
 * real path of the deepest part that already exists, symlinks included, and requires it to be
 * inside `realpath(rootDir)`. A dangling symlink on the way is refused (where it would lead
 * cannot be known). Throws `MetainfoError` `METAINFO_UNSAFE_PATH`.
 *
 * What remains is the usual time-of-check/time-of-use window: a local attacker who can create
 * symlinks inside the download folder between this check and the open. Backends that care
 * should also open with `O_NOFOLLOW` on the final component.
 */
export async function safeJoin(rootDir: string, components: readonly string[]): Promise<string> {
  assertSafePath(components, 'path');
  const root = await realpath(rootDir);
  const target = join(root, ...components);
  assertInside(root, target, components);
  // Walk up to the deepest existing ancestor (bounded by the path depth) and check where it really is.
  for (let existing = target; ; existing = dirname(existing)) {
    const st = await lstat(existing).catch(ignoreMissing);
    if (st) {
      const real = await realpath(existing).catch(ignoreMissing);
      if (real === null) unsafe(components, 'goes through a dangling symbolic link');
      assertInside(root, real, components);
      return target;
    }
    if (existing === root) return target;
  }
}

/** Synchronous `safeJoin`, for code that already does synchronous I/O. Same rules. */
export function safeJoinSync(rootDir: string, components: readonly string[]): string {
  assertSafePath(components, 'path');
  const root = realpathSync(rootDir);
  const target = join(root, ...components);
  assertInside(root, target, components);
  for (let existing = target; ; existing = dirname(existing)) {
    if (lstatSync(existing, { throwIfNoEntry: false })) {
      let real: string | null = null;
      try {
        real = realpathSync(existing);
      } catch (err) {
        ignoreMissing(err as NodeJS.ErrnoException);
      }
      if (real === null) unsafe(components, 'goes through a dangling symbolic link');
      assertInside(root, real, components);
      return target;
    }
    if (existing === root) return target;
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): null {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
  throw err;
}

function assertInside(root: string, candidate: string, components: readonly string[]): void {
  const rel = relative(root, candidate);
  if (rel === '..' || rel.startsWith(`..${'/'}`) || rel.startsWith('..\\') || isAbsolute(rel)) {
    unsafe(components, 'resolves outside the download folder (through a symbolic link)');
  }
}

function unsafe(components: readonly string[], reason: string): never {
  throw new MetainfoError('METAINFO_UNSAFE_PATH', `path ${JSON.stringify(components.join('/'))}`, reason);
}

/**
 * `mkdir -p` that always ends. Node's `mkdir(path, { recursive: true })` never returns when a
 * parent exists but refuses children with ENOENT (procfs: `/proc/self/x`; it retries the parent
 * forever, in C++, ignoring signals). Here the missing folders are found by walking up (at most
 * one step per path component) and made one at a time; any failure is final and names the folder.
 * Throws `StorageError` (operation `mkdir`).
 */
export async function makeDirs(path: string, mode?: number): Promise<void> {
  const missing: string[] = [];
  for (let dir = resolve(path); ; ) {
    const st = await stat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw dirError(err, dir);
    });
    if (st) {
      if (!st.isDirectory())
        throw dirError(Object.assign(new Error('not a folder'), { code: 'ENOTDIR' }), dir);
      break;
    }
    missing.push(dir);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    const dir = missing[i]!;
    try {
      await mkdir(dir, mode === undefined ? undefined : { mode });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // Made meanwhile by someone else: fine if it is a folder.
      if (e.code === 'EEXIST' && (await stat(dir).catch(() => null))?.isDirectory()) continue;
      throw dirError(e, dir);
    }
  }
}

/** A message that says what is wrong with the folder, not only the errno. */
function dirError(err: NodeJS.ErrnoException, dir: string): StorageError {
  const why: Record<string, string> = {
    ENOENT: `${dirname(dir)} exists but does not accept new folders (a special file system such as /proc?)`,
    ELOOP: 'too many levels of symbolic links (a symlink loop)',
    ENOTDIR: 'a file, not a folder, is in the way',
    EEXIST: 'something that is not a folder is in the way (a dangling symbolic link?)',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    ENAMETOOLONG: 'the name is too long',
  };
  const reason = err.code ? why[err.code] : undefined;
  if (!reason) return storageErrorFrom(err, dir, 'mkdir');
  const base = storageErrorFrom(err, dir, 'mkdir');
  return new StorageError(base.code, `cannot create folder ${dir}: ${reason} (${err.code})`, {
    path: dir,
    operation: 'mkdir',
    ...(err.code === undefined ? {} : { errno: err.code }),
    cause: err,
  });
}
