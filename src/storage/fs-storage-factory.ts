/**
 * The filesystem `StorageFactory`: torrent data in the download folder, and the session's own
 * state (fast-resume records, the parts file that holds bytes of skipped files) in a state
 * folder OUTSIDE it. Keeping state out of the download folder means a torrent cannot name a
 * file `.peerdrop` and overwrite another torrent's record, and a symlink planted in the
 * download folder cannot redirect our state writes.
 *
 * Records are named `<info-hash>-<folder id>` where the folder id is a hash of the download
 * folder's absolute path: the same torrent downloaded to two folders keeps two records.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { openFsStorage } from './fs-storage.js';
import { MAX_RESUME_BYTES, writeFileAtomic } from './resume.js';
import { makeDirs } from './safe-join.js';
import type { OpenStorageRequest, StorageFactory } from './storage-factory.js';

/** `$PEERDROP_STATE_DIR`, else `$XDG_STATE_HOME/peerdrop`, else `~/.local/state/peerdrop`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PEERDROP_STATE_DIR) return resolve(env.PEERDROP_STATE_DIR);
  const base = env.XDG_STATE_HOME ? resolve(env.XDG_STATE_HOME) : join(homedir(), '.local', 'state');
  return join(base, 'peerdrop');
}

export interface FsStorageFactoryOptions {
  /** Where resume records and parts files live (default `defaultStateDir()`). */
  readonly stateDir?: string;
}

export function fsStorageFactory(options: FsStorageFactoryOptions = {}): StorageFactory {
  const stateDir = options.stateDir ?? defaultStateDir();
  const recordBase = (request: OpenStorageRequest) => {
    const folder = createHash('sha1').update(resolve(request.dir)).digest('hex').slice(0, 16);
    return join(stateDir, 'torrents', `${request.key}-${folder}`);
  };
  const resumePath = (request: OpenStorageRequest) => request.resumePath ?? `${recordBase(request)}.resume`;
  return {
    name: 'fs',
    async open(layout, request) {
      await makeDirs(join(stateDir, 'torrents'), 0o700);
      return openFsStorage(layout, {
        rootDir: request.dir,
        hashPool: request.hashPool,
        partsPath: `${recordBase(request)}.parts`,
        priorities: request.priorities,
      });
    },
    async loadResume(request) {
      const path = resumePath(request);
      try {
        const info = await stat(path);
        if (!info.isFile()) return { ok: false, reason: `${path} is not a file` };
        if (info.size > MAX_RESUME_BYTES)
          return { ok: false, reason: `resume file of ${info.size} bytes is too large` };
        return { ok: true, bytes: await readFile(path) };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return {
          ok: false,
          reason: code === 'ENOENT' ? 'no resume file' : `unreadable: ${code ?? String(err)}`,
        };
      }
    },
    async saveResume(request, bytes) {
      const path = resumePath(request);
      await makeDirs(join(path, '..'), 0o700);
      await writeFileAtomic(path, bytes);
    },
  };
}
