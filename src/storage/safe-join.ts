import { lstatSync, realpathSync } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { MetainfoError } from '../metainfo/errors.js';
import { assertSafePath } from '../metainfo/safe-path.js';

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
