/**
 * Bare magnet link to metadata and to completion over a private loopback DHT (issue 10),
 * peerdrop against libtorrent in the same setup, in one run.
 *   npm run bench -- magnet-dht [--mib 64] [--runs 3] [--json]
 * The setup: a DHT hub (a peerdrop node that only routes), a libtorrent seeder that announces
 * the torrent on the DHT (bootstrapped from the hub only), and a magnet link with nothing but
 * the info-hash: no tracker, no peer address. Each run starts a fresh leecher session,
 * bootstrapped from the hub only, that adds the magnet: libtorrent (python3-libtorrent, its own
 * process; times from just before its session was made) and peerdrop (a library Session in
 * this process; times from just before `new Session`), alternating, `--runs` each. Reported:
 * median seconds to metadata and to completion for each, and `ratios` peerdrop / libtorrent
 * (target ≤ 1.0). TCP only on both sides (libtorrent's uTP off), 127.0.0.1 everywhere.
 * peerdrop's hash workers are started once, before the clocks: run from TypeScript (tsx) each
 * worker compiles its modules on start, which took seconds on a loaded machine and is not what
 * a user's `peerdrop get` (built JavaScript) pays. MAGNET_DHT_TRACE=1 logs peerdrop's events.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUdpDht } from '../../src/dht/udp-adapter.js';
import { parseMetainfo, wireInfoHash } from '../../src/metainfo/index.js';
import { UdpMux } from '../../src/net/udp-mux.js';
import { Session } from '../../src/session/session.js';
import { createHashPool, type HashPool } from '../../src/storage/hash-pool.js';
import { toHex } from '../../src/util/bytes.js';
import { freePort } from '../../test/helpers/ports.js';
import { startProcess } from '../../test/helpers/process.js';
import { buildTorrent, fixtureBytes } from '../../test/helpers/torrent-fixtures.js';

const PYTHON = '/usr/bin/python3';
const LT = fileURLToPath(new URL('./magnet-dht-lt.py', import.meta.url));

export interface MagnetDhtOptions {
  readonly sizeBytes: number;
  readonly runs: number;
  /** Per leecher run (default 60 s). */
  readonly timeoutMs?: number;
}

export interface ClientTimes {
  readonly metadataSeconds: number;
  readonly completeSeconds: number;
  /** Every run, in order. */
  readonly runs: readonly { metadataSeconds: number; completeSeconds: number }[];
}

export interface MagnetDhtResult {
  readonly sizeBytes: number;
  readonly runs: number;
  readonly peerdrop: ClientTimes;
  readonly libtorrent: ClientTimes;
  /** peerdrop's median time / libtorrent's (≤ 1.0: peerdrop at least as fast). */
  readonly ratios: { readonly metadata: number; readonly complete: number };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? Number.NaN;
}

function summary(runs: { metadataSeconds: number; completeSeconds: number }[]): ClientTimes {
  return {
    metadataSeconds: median(runs.map((r) => r.metadataSeconds)),
    completeSeconds: median(runs.map((r) => r.completeSeconds)),
    runs,
  };
}

async function peerdropLeech(
  magnet: string,
  dir: string,
  hubPort: number,
  timeoutMs: number,
  hashPool: HashPool,
): Promise<{ metadataSeconds: number; completeSeconds: number }> {
  const t0 = performance.now();
  const session = new Session({
    host: '127.0.0.1',
    hashPool,
    lsd: false,
    dht: { isLoopbackNetwork: true, bootstrap: [{ host: '127.0.0.1', port: hubPort }] },
  });
  try {
    await session.listen();
    const handle = await session.add(magnet, { dir });
    let metadataMs = Number.NaN;
    if (handle.metainfo) metadataMs = performance.now() - t0;
    else handle.on('metadata', () => (metadataMs = performance.now() - t0));
    if (process.env.MAGNET_DHT_TRACE) {
      const at = () => ((performance.now() - t0) / 1000).toFixed(3);
      handle.on('metadata', () => console.error(at(), 'metadata'));
      handle.on('peer', (e) => console.error(at(), 'peer', JSON.stringify(e)));
      handle.on('piece', (p) => console.error(at(), 'piece', p));
      handle.on('warning', (w) => console.error(at(), 'warning', JSON.stringify(w)));
      handle.on('progress', (st) =>
        console.error(at(), 'progress', st.state, st.peers, st.knownPeers, st.verifiedBytes),
      );
    }
    await handle.done({ signal: AbortSignal.timeout(timeoutMs) });
    return { metadataSeconds: metadataMs / 1000, completeSeconds: (performance.now() - t0) / 1000 };
  } finally {
    await session.close();
  }
}

async function libtorrentLeech(
  infoHashHex: string,
  dir: string,
  hubPort: number,
  timeoutMs: number,
): Promise<{ metadataSeconds: number; completeSeconds: number }> {
  const port = await freePort();
  const p = startProcess(PYTHON, [
    LT,
    'leech',
    infoHashHex,
    dir,
    String(port),
    `127.0.0.1:${hubPort}`,
    '--max-seconds',
    String(timeoutMs / 1000),
  ]);
  try {
    const done = await p.waitFor(/DONE (\d+\.\d+)/, timeoutMs + 5000);
    const meta = /METADATA (\d+\.\d+)/.exec(p.output());
    return { metadataSeconds: Number(meta?.[1] ?? Number.NaN), completeSeconds: Number(done[1]) };
  } finally {
    await p.stop();
  }
}

export async function runMagnetDht(o: MagnetDhtOptions): Promise<MagnetDhtResult> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const root = mkdtempSync(join(tmpdir(), 'peerdrop-magnet-dht-'));
  const mux = await UdpMux.bind({ port: 0, families: [4], host4: '127.0.0.1' });
  const hub = startUdpDht(mux, { restrictIps: false, bootstrap: [] });
  const hashPool = createHashPool();
  // One digest per worker, concurrently, so every worker is up before the first run.
  const warm = new Uint8Array(1 << 20);
  await Promise.all(Array.from({ length: hashPool.threads }, () => hashPool.digest('sha1', warm)));
  let seeder: ReturnType<typeof startProcess> | null = null;
  try {
    const data = fixtureBytes(o.sizeBytes, 41);
    const seedDir = join(root, 'seed');
    mkdirSync(seedDir);
    writeFileSync(join(seedDir, 'magnet-dht.bin'), data);
    const torrent = buildTorrent([{ path: ['magnet-dht.bin'], data }], {
      name: 'magnet-dht.bin',
      single: true,
      pieceLength: 256 * 1024,
    });
    const torrentPath = join(root, 'magnet-dht.torrent');
    writeFileSync(torrentPath, torrent);
    const infoHashHex = toHex(wireInfoHash(parseMetainfo(torrent)));
    const magnet = `magnet:?xt=urn:btih:${infoHashHex}`;
    seeder = startProcess(PYTHON, [
      LT,
      'seed',
      torrentPath,
      seedDir,
      String(await freePort()),
      `127.0.0.1:${mux.port}`,
      '--max-seconds',
      String(Math.ceil((o.runs * 2 * timeoutMs) / 1000) + 60),
    ]);
    await seeder.waitFor(/SEEDING/, 60_000);
    // The seeder's announce must be on the hub before the first leecher asks.
    const deadline = Date.now() + 30_000;
    while (hub.node.stats().torrents === 0) {
      if (Date.now() > deadline) throw new Error('the libtorrent seeder never announced to the hub');
      await new Promise((r) => setTimeout(r, 100));
    }
    const ours: { metadataSeconds: number; completeSeconds: number }[] = [];
    const theirs: { metadataSeconds: number; completeSeconds: number }[] = [];
    for (let i = 0; i < o.runs; i++) {
      for (const client of i % 2 === 0 ? ['libtorrent', 'peerdrop'] : ['peerdrop', 'libtorrent']) {
        const dir = join(root, `${client}-${i}`);
        mkdirSync(dir);
        if (client === 'peerdrop') ours.push(await peerdropLeech(magnet, dir, mux.port, timeoutMs, hashPool));
        else theirs.push(await libtorrentLeech(infoHashHex, dir, mux.port, timeoutMs));
        if (!readFileSync(join(dir, 'magnet-dht.bin')).equals(data))
          throw new Error(`${client} run ${i}: downloaded data differs`);
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const peerdrop = summary(ours);
    const libtorrent = summary(theirs);
    const round = (x: number) => Math.round(x * 100) / 100;
    return {
      sizeBytes: o.sizeBytes,
      runs: o.runs,
      peerdrop,
      libtorrent,
      ratios: {
        metadata: round(peerdrop.metadataSeconds / libtorrent.metadataSeconds),
        complete: round(peerdrop.completeSeconds / libtorrent.completeSeconds),
      },
    };
  } finally {
    seeder?.child.stdin?.end();
    await seeder?.stop();
    hub.close();
    await mux.close();
    await hashPool.close();
    rmSync(root, { recursive: true, force: true });
  }
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runMagnetDht({ sizeBytes: arg('mib', 64) * 1024 * 1024, runs: arg('runs', 3) });
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(r)}\n`);
  else process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
