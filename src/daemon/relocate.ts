/**
 * Moving a stopped torrent's data to another folder inside the download root, without a
 * re-check afterwards: each file is renamed (or copied then unlinked across file systems, the
 * copy keeping the modification time), paths go through `safeJoin` on both sides, nothing that
 * exists at the destination is overwritten, and the engine's resume record is copied to the
 * name the new folder gives it, so the verified pieces are trusted as they were.
 */
import { createHash } from 'node:crypto';
import { constants, copyFile, lstat, mkdir, rename, rmdir, stat, unlink, utimes } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Metainfo } from '../metainfo/types.js';
import { safeJoin } from '../storage/safe-join.js';
import { PeerdropError } from '../util/errors.js';

/** Move every file of `metainfo` from `fromDir` to `toDir`; returns the files moved. */
export async function moveTorrentFiles(fromDir: string, toDir: string, metainfo: Metainfo): Promise<number> {
  const moves: { from: string; to: string }[] = [];
  for (const file of metainfo.files) {
    if (file.attributes.isPadding) continue;
    const from = await safeJoin(fromDir, file.path);
    const st = await lstat(from).catch(() => null);
    if (!st) continue; // a skipped file never created
    if (!st.isFile())
      throw new PeerdropError(
        'DAEMON_MOVE_FAILED',
        `${file.path.join('/')} is not a regular file; not moved`,
      );
    const to = await safeJoin(toDir, file.path);
    if (await lstat(to).catch(() => null))
      throw new PeerdropError('DAEMON_MOVE_FAILED', `${to} already exists; nothing was moved`);
    moves.push({ from, to });
  }
  const folders = new Set<string>();
  for (const { from, to } of moves) {
    await mkdir(dirname(to), { recursive: true });
    await moveFile(from, to);
    for (let d = dirname(from); d.length > resolve(fromDir).length; d = dirname(d)) folders.add(d);
  }
  // Folders the torrent leaves empty go; rmdir keeps any the user put other things in.
  for (const folder of [...folders].sort((a, b) => b.length - a.length)) await rmdir(folder).catch(() => {});
  return moves.length;
}

async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
  }
  const st = await stat(from);
  await copyFile(from, to, constants.COPYFILE_EXCL);
  // The resume record trusts a file by size and mtime: the copy keeps the mtime.
  await utimes(to, st.atime, st.mtime);
  await unlink(from);
}

/**
 * The engine's resume record (and parts file) names for a torrent in `dir`, as the fs storage
 * factory names them: `<state>/torrents/<key>-<sha1(dir)[:16]>.resume`. Should the factory
 * change its naming, a moved torrent is re-checked once: slower, never wrong.
 */
function recordBase(stateDir: string, key: string, dir: string): string {
  const folder = createHash('sha1').update(resolve(dir)).digest('hex').slice(0, 16);
  return join(stateDir, 'torrents', `${key}-${folder}`);
}

export async function copyResumeRecords(stateDir: string, key: string, fromDir: string, toDir: string) {
  const from = recordBase(stateDir, key, fromDir);
  const to = recordBase(stateDir, key, toDir);
  for (const ext of ['.resume', '.parts']) {
    await copyFile(`${from}${ext}`, `${to}${ext}`).then(
      () => unlink(`${from}${ext}`),
      () => {},
    );
  }
}
