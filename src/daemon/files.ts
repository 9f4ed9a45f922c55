/**
 * Paths chosen through the API stay inside the daemon's download root, and removing a
 * torrent's data deletes only that torrent's own files (through `safeJoin`, symlinks checked),
 * then the folders it leaves empty, never anything above the torrent's top folder.
 */
import { lstat, mkdir, open, realpath, rmdir, unlink } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { contentRisk, type FileRisk } from '../metainfo/file-risk.js';
import { checkPath } from '../metainfo/safe-path.js';
import type { Metainfo } from '../metainfo/types.js';
import { safeJoin } from '../storage/safe-join.js';
import { PeerdropError } from '../util/errors.js';

/**
 * The download folder for a request: the root itself, or a folder inside it given as a
 * relative path (`movies/2024`) or an absolute path that lies inside the root. Created.
 * Anything else is `DAEMON_PATH_OUTSIDE` (400).
 */
export async function resolveDownloadDir(root: string, requested: string | undefined): Promise<string> {
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  if (requested === undefined || requested === '' || requested === root || requested === realRoot)
    return realRoot;
  let rel = requested;
  if (isAbsolute(requested)) {
    rel = relative(realRoot, requested);
    if (rel === '') return realRoot;
    if (rel.startsWith('..') || isAbsolute(rel)) throw outside(requested);
  }
  const components = rel.split(/[\\/]+/).filter((c) => c !== '' && c !== '.');
  if (components.length === 0) return realRoot;
  if (checkPath(components) !== null) throw outside(requested);
  let dir: string;
  try {
    dir = await safeJoin(realRoot, components);
  } catch {
    throw outside(requested);
  }
  await mkdir(dir, { recursive: true });
  // Re-check after creation: a symlink raced in on the way would show here.
  const real = await realpath(dir);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) throw outside(requested);
  return real;
}

function outside(requested: string): PeerdropError {
  return new PeerdropError(
    'DAEMON_PATH_OUTSIDE',
    `${JSON.stringify(requested)} is not a folder inside the download folder`,
  );
}

/** Delete the torrent's files in `dir` and the folders that become empty; returns files removed. */
export async function removeTorrentData(dir: string, metainfo: Metainfo): Promise<number> {
  let removed = 0;
  const folders = new Set<string>();
  for (const file of metainfo.files) {
    if (file.attributes.isPadding) continue;
    let path: string;
    try {
      path = await safeJoin(dir, file.path);
    } catch {
      continue; // a path that would leave the folder is never touched
    }
    const st = await lstat(path).catch(() => null);
    if (st && (st.isFile() || st.isSymbolicLink())) {
      await unlink(path);
      removed++;
    }
    for (let i = file.path.length - 1; i >= 1; i--) folders.add(join(dir, ...file.path.slice(0, i)));
  }
  // Deepest first; rmdir refuses non-empty folders, which keeps whatever else the user put there.
  for (const folder of [...folders].sort((a, b) => b.length - a.length)) await rmdir(folder).catch(() => {});
  return removed;
}

/** Files whose first bytes are checked at most (a torrent of 100,000 files is not read whole). */
const MAX_CONTENT_CHECKS = 500;
const HEAD_BYTES = 16;

/** Content that does not match its file's extension (a program named `.mp4`), from the first bytes on disk. */
export async function contentRisks(dir: string, metainfo: Metainfo): Promise<FileRisk[]> {
  const out: FileRisk[] = [];
  let checked = 0;
  for (const file of metainfo.files) {
    if (file.attributes.isPadding || file.lengthBytes < HEAD_BYTES) continue;
    if (++checked > MAX_CONTENT_CHECKS) break;
    let path: string;
    try {
      path = await safeJoin(dir, file.path);
    } catch {
      continue;
    }
    const h = await open(path, 'r').catch(() => null);
    if (!h) continue;
    try {
      const head = new Uint8Array(HEAD_BYTES);
      const { bytesRead } = await h.read(head, 0, HEAD_BYTES, 0);
      const risk = contentRisk(file.path, head.subarray(0, bytesRead));
      if (risk) out.push(risk);
    } finally {
      await h.close();
    }
  }
  return out;
}
