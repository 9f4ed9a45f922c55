/**
 * Several paths in one send (`peerdrop send a.txt photos/ b.bin`): one private torrent whose
 * folder holds each path under its own base name (`a.txt`, `photos/…`, `b.bin`), so the
 * receiver gets one folder, through the same safe-path rules as any torrent, and a repeated send
 * of the same paths has the same info-hash (resume). The folder is named after the first path
 * and the count (`a.txt and 2 more`), from the names alone.
 *
 * The files stay where they are: the sender's storage maps each torrent path back to the file it
 * was hashed from (`bundleStorage`), instead of expecting them side by side in one folder.
 */
import { basename, resolve, sep } from 'node:path';
import type { Content, ContentFile } from '../storage/create-torrent.js';
import { walkContent } from '../storage/create-torrent.js';
import type { StorageLayout } from '../storage/storage.js';
import type { StorageFactory } from '../storage/storage-factory.js';
import { PeerdropError } from '../util/errors.js';

export class BundleError extends PeerdropError {}

/** Most paths in one send (each is walked; a folder counts once). */
export const MAX_BUNDLE_PATHS = 1000;

/** The content of one torrent holding every path under its base name. */
export async function bundleContent(paths: readonly string[], signal?: AbortSignal): Promise<Content> {
  if (paths.length < 2) throw new Error('a bundle is two or more paths');
  if (paths.length > MAX_BUNDLE_PATHS)
    throw new BundleError('HANDOFF_BAD_PATHS', `at most ${MAX_BUNDLE_PATHS} paths in one send`);
  const seen = new Set<string>();
  const files: ContentFile[] = [];
  for (const p of paths) {
    const part = await walkContent(resolve(p), signal);
    if (part.name === '' || part.name === '.' || part.name === '..')
      throw new BundleError('HANDOFF_BAD_PATHS', `${p} has no name to send it under`);
    if (seen.has(part.name))
      throw new BundleError(
        'HANDOFF_BAD_PATHS',
        `two of the paths are named ${JSON.stringify(part.name)}: the receiver would get one folder with both (rename one)`,
      );
    seen.add(part.name);
    for (const f of part.files)
      files.push({ ...f, path: part.isSingleFile ? [part.name] : [part.name, ...f.path] });
  }
  const first = basename(resolve(paths[0]!));
  return { name: `${first} and ${paths.length - 1} more`, isSingleFile: false, files };
}

/**
 * The sender's storage for a bundle: every file of the layout (`[name, top, …]`) is opened at the
 * path it was hashed from (through the inner factory's usual checks, relative to `/`). Resume
 * records are the inner factory's, by info-hash.
 */
export function bundleStorage(inner: StorageFactory, content: Content): StorageFactory {
  const fsPathOf = new Map(content.files.map((f) => [f.path.join('/'), f.fsPath]));
  const mapLayout = (layout: StorageLayout): StorageLayout => ({
    pieceLengthBytes: layout.pieceLengthBytes,
    storageLengthBytes: layout.storageLengthBytes,
    files: layout.files.map((f) => {
      if (f.attributes.isPadding) return f;
      const fsPath = fsPathOf.get(f.path.slice(1).join('/'));
      if (fsPath === undefined)
        throw new BundleError('HANDOFF_BAD_PATHS', 'the torrent does not match its paths');
      return { ...f, path: fsPath.split(sep).filter((c) => c !== '') };
    }),
  });
  return {
    name: `bundle+${inner.name}`,
    open: (layout, request) => inner.open(mapLayout(layout), { ...request, dir: sep }),
    loadResume: (request) => inner.loadResume(request),
    saveResume: (request, bytes) => inner.saveResume(request, bytes),
  };
}
