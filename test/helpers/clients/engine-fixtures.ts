import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMetainfo, wireInfoHash } from '../../../src/metainfo/index.js';
import type { Metainfo } from '../../../src/metainfo/types.js';
import { Session } from '../../../src/session/session.js';
import type { TorrentHandle } from '../../../src/session/torrent-handle.js';
import { type FileSpec, standardTree, writeTree } from '../content.js';
import { buildTorrent } from '../torrent-fixtures.js';

/**
 * Content and torrents shared by the engine interop tests (`test/interop/engine-*.test.ts`):
 * deterministic data written under `<base>/<id>/src/<name>`, and two `.torrent` files per
 * fixture with the same info-hash: one announcing to a real tracker, one to a dead address
 * (for tests that connect peers directly).
 */

export const KIB = 1024;
export const MIB = 1024 * KIB;

export interface EngineFixture {
  readonly id: string;
  /** The torrent's name: the file (single-file) or top folder (multi-file) under `srcDir`. */
  readonly name: string;
  /** Seeders use this as their download folder: it holds `<name>`. */
  readonly srcDir: string;
  readonly pieceLength: number;
  readonly files: readonly FileSpec[];
  readonly infoHashHex: string;
  readonly metainfo: Metainfo;
  /** Announces to the tracker given to {@link writeTorrents}. */
  readonly trackerTorrentPath: string;
  /** Announces to 127.0.0.1:1 (nothing listens): peers are connected directly. */
  readonly directTorrentPath: string;
}

export interface FixtureSpec {
  readonly id: string;
  readonly name: string;
  readonly pieceLength: number;
  /** One file (a single-file torrent) or a tree (multi-file). */
  readonly single?: number;
  readonly tree?: readonly FileSpec[];
  readonly seed?: number;
}

/** The standard fixture set: single file 16 KiB pieces, multi-file unicode tree, 4 MiB pieces. */
export function standardSpecs(): FixtureSpec[] {
  return [
    // 2 MiB + 123 bytes: 129 pieces, the last one 123 bytes long.
    { id: 'single16k', name: 'single-16k.bin', pieceLength: 16 * KIB, single: 2 * MIB + 123, seed: 11 },
    // Nested folders, unicode names, a zero-length file, files straddling pieces; last piece short.
    { id: 'multi16k', name: 'multi ünï 16k', pieceLength: 16 * KIB, tree: standardTree(64 * KIB), seed: 12 },
    // 12 MiB − 1000 bytes: three 4 MiB pieces, the last one short.
    { id: 'single4m', name: 'single-4m.bin', pieceLength: 4 * MIB, single: 12 * MIB - 1000, seed: 13 },
  ];
}

/** Write the data of `spec` under `<base>/<id>/src` and compute its torrent (no files written yet). */
export function prepareFixture(
  base: string,
  spec: FixtureSpec,
): Omit<EngineFixture, 'trackerTorrentPath' | 'directTorrentPath'> & {
  readonly torrent: (announce: string) => Uint8Array;
} {
  const srcDir = join(base, spec.id, 'src');
  mkdirSync(srcDir, { recursive: true });
  const isSingle = spec.single !== undefined;
  const files: FileSpec[] = isSingle
    ? writeTree(srcDir, [{ path: spec.name, size: spec.single! }], spec.seed)
    : writeTree(join(srcDir, spec.name), spec.tree ?? [], spec.seed);
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const entries = sorted.map((f) => ({
    path: isSingle ? [spec.name] : f.path.split('/'),
    data: readFileSync(isSingle ? join(srcDir, f.path) : join(srcDir, spec.name, f.path)),
  }));
  const torrent = (announce: string) =>
    buildTorrent(entries, {
      name: spec.name,
      pieceLength: spec.pieceLength,
      single: isSingle,
      outer: { announce },
    });
  const metainfo = parseMetainfo(torrent('http://127.0.0.1:1/announce'));
  return {
    id: spec.id,
    name: spec.name,
    srcDir,
    pieceLength: spec.pieceLength,
    files: sorted,
    metainfo,
    infoHashHex: Buffer.from(wireInfoHash(metainfo)).toString('hex'),
    torrent,
  };
}

/** Write both `.torrent` variants of a prepared fixture. */
export function writeTorrents(
  base: string,
  prepared: ReturnType<typeof prepareFixture>,
  trackerAnnounceUrl: string,
): EngineFixture {
  const { torrent, ...rest } = prepared;
  const trackerTorrentPath = join(base, prepared.id, 'tracker.torrent');
  const directTorrentPath = join(base, prepared.id, 'direct.torrent');
  writeFileSync(trackerTorrentPath, torrent(trackerAnnounceUrl));
  writeFileSync(directTorrentPath, torrent('http://127.0.0.1:1/announce'));
  return { ...rest, trackerTorrentPath, directTorrentPath };
}

/** Index (as `files` takes it) of the torrent file whose path ends with `suffix`. */
export function fileIndex(fx: EngineFixture, suffix: string): number {
  const i = fx.metainfo.files
    .filter((f) => !f.attributes.isPadding)
    .findIndex((f) => f.path.join('/').endsWith(suffix));
  if (i < 0) throw new Error(`no file ending with ${suffix} in ${fx.name}`);
  return i;
}

/** An in-process peerdrop session on 127.0.0.1 with one torrent; `stop` closes it. */
export async function startPeerdrop(opts: {
  torrentPath: string;
  dir: string;
  peers?: readonly string[];
  files?: readonly number[];
}): Promise<{ session: Session; handle: TorrentHandle; port: number; stop: () => Promise<void> }> {
  const session = new Session({ host: '127.0.0.1' });
  await session.listen();
  const handle = await session.add(readFileSync(opts.torrentPath), {
    dir: opts.dir,
    peers: [...(opts.peers ?? [])],
    ...(opts.files ? { files: [...opts.files] } : {}),
  });
  return { session, handle, port: session.port, stop: () => session.close() };
}
