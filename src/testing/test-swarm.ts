import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encode } from '../bencode/index.js';
import { parseMetainfo } from '../metainfo/index.js';
import type { Metainfo } from '../metainfo/types.js';
import { Session, type SessionOptions } from '../session/session.js';
import type { TorrentHandle } from '../session/torrent-handle.js';
import { seededRandom } from '../util/random.js';

/**
 * A swarm of peerdrop sessions in one process on 127.0.0.1, for testing code built on
 * peerdrop (hyperdht's testnet, undici's MockAgent): one seeder with generated content and
 * `leechers` sessions that know the seeder's address. Everything is removed by `close()`.
 */
export interface TestSwarm {
  readonly metainfo: Metainfo;
  readonly torrent: Uint8Array;
  readonly seeder: Session;
  readonly leechers: readonly Session[];
  /** The seeder's data folder (the torrent's files live under `<seedDir>/<name>`). */
  readonly seedDir: string;
  /** Add the torrent to every leecher (each in its own folder) and return their handles. */
  start(): Promise<TorrentHandle[]>;
  /** Each leecher's download folder. */
  leecherDir(index: number): string;
  close(): Promise<void>;
}

export interface TestSwarmOptions {
  readonly leechers?: number;
  /** Total content size (default 1 MiB), split into `files` files. */
  readonly sizeBytes?: number;
  readonly files?: number;
  readonly pieceLengthBytes?: number;
  readonly seed?: number;
  readonly sessionOptions?: SessionOptions;
}

export async function createTestSwarm(options: TestSwarmOptions = {}): Promise<TestSwarm> {
  const root = await mkdtemp(join(tmpdir(), 'peerdrop-swarm-'));
  const pieceLength = options.pieceLengthBytes ?? 32 * 1024;
  const fileCount = Math.max(1, options.files ?? 3);
  const size = options.sizeBytes ?? 1024 * 1024;
  const rnd = seededRandom(options.seed ?? 1);
  const name = 'swarm';
  const seedDir = join(root, 'seed');
  const datas: { path: string[]; data: Uint8Array }[] = [];
  for (let i = 0; i < fileCount; i++) {
    const len =
      i === fileCount - 1
        ? size - Math.floor(size / fileCount) * (fileCount - 1)
        : Math.floor(size / fileCount);
    const data = rnd.bytes(len);
    const path = [`file-${i}.bin`];
    datas.push({ path, data });
    const p = join(seedDir, name, ...path);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, data);
  }
  const torrent = v1Torrent(name, datas, pieceLength);
  const metainfo = parseMetainfo(torrent);
  const host = '127.0.0.1';
  const seeder = new Session({ ...options.sessionOptions, host });
  await seeder.add(torrent, { dir: seedDir });
  const leechers = Array.from(
    { length: options.leechers ?? 1 },
    () => new Session({ ...options.sessionOptions, host }),
  );
  const leecherDir = (i: number) => join(root, `leecher-${i}`);
  return {
    metainfo,
    torrent,
    seeder,
    leechers,
    seedDir,
    leecherDir,
    start: () =>
      Promise.all(
        leechers.map((s, i) => s.add(torrent, { dir: leecherDir(i), peers: [`${host}:${seeder.port}`] })),
      ),
    close: async () => {
      await Promise.allSettled([seeder.close(), ...leechers.map((s) => s.close())]);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A minimal v1 multi-file torrent (files in the given order). */
function v1Torrent(
  name: string,
  files: readonly { path: string[]; data: Uint8Array }[],
  pieceLength: number,
): Uint8Array {
  const total = files.reduce((n, f) => n + f.data.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const f of files) {
    all.set(f.data, at);
    at += f.data.length;
  }
  const pieces = new Uint8Array(Math.ceil(total / pieceLength) * 20);
  for (let p = 0; p * pieceLength < total; p++) {
    pieces.set(
      createHash('sha1')
        .update(all.subarray(p * pieceLength, (p + 1) * pieceLength))
        .digest(),
      p * 20,
    );
  }
  return encode({
    info: {
      files: files.map((f) => ({ length: f.data.length, path: f.path })),
      name,
      'piece length': pieceLength,
      pieces,
    },
  });
}
