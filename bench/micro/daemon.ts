/**
 * Daemon figures: RSS idle with 0 and with N torrents loaded, p50/p99 of listing them over the
 * API, and the restart time with N torrents (the real CLI process, `peerdrop daemon`), twice:
 * N paused torrents (out of the engine), then the same N resumed and seeding (in the engine).
 *   npm run bench -- daemon [count=1000] [--json]
 * Targets (issue 12): RSS ≤ 150 MB with 1,000 torrents; list p99 < 50 ms.
 * Torrents are small (one 4 KiB file each, data present, no trackers), so no network.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from '../../src/bencode/index.js';
import { createTorrent } from '../../src/storage/create-torrent.js';
import { createHashPool } from '../../src/storage/hash-pool.js';
import { type DaemonProcess, spawnDaemon } from '../../test/daemon-helpers.js';
import { tempDir } from '../../test/helpers/tmp.js';

export interface DaemonBenchResult {
  readonly torrents: number;
  readonly rssIdleEmptyBytes: number;
  readonly rssIdleLoadedBytes: number;
  readonly addAllMs: number;
  readonly listP50Ms: number;
  readonly listP99Ms: number;
  readonly listRequests: number;
  readonly restartMs: number;
  readonly restoreMs: number;
  /** The same torrents resumed: checked, then seeding in the engine. */
  readonly resumeAllMs: number;
  readonly rssIdleSeedingBytes: number;
  readonly listSeedingP50Ms: number;
  readonly listSeedingP99Ms: number;
  readonly restartSeedingMs: number;
  readonly restoreSeedingMs: number;
  /** States that had not reached seeding 120 s after the resume or the restart (null: none). */
  readonly notSeedingAfterResume: Record<string, number> | null;
  readonly notSeedingAfterRestart: Record<string, number> | null;
}

interface Listed {
  torrents: { infoHash: string; state: string }[];
}

async function timeLists(d: DaemonProcess, requests: number, expected: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    const res = await d.api('/api/torrents');
    const list = (await res.json()) as Listed;
    times.push(performance.now() - started);
    if (list.torrents.length !== expected) throw new Error('list is short');
  }
  return times.sort((a, b) => a - b);
}

/** Null once all seed; else the count per state at the deadline (what the bench then reports). */
async function waitAllSeeding(d: DaemonProcess, timeoutMs: number): Promise<Record<string, number> | null> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const list = (await (await d.api('/api/torrents')).json()) as Listed;
    if (list.torrents.every((t) => t.state === 'seeding')) return null;
    if (performance.now() > deadline) {
      const states: Record<string, number> = {};
      for (const t of list.torrents) states[t.state] = (states[t.state] ?? 0) + 1;
      return states;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function idleRss(d: DaemonProcess, settleMs: number): Promise<number> {
  await new Promise((r) => setTimeout(r, settleMs));
  return rssOf(d.child.pid!);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

export async function benchDaemon(options: {
  torrents: number;
  listRequests: number;
  settleMs: number;
}): Promise<DaemonBenchResult> {
  const tmp = tempDir('peerdrop-bench-daemon-');
  const downloads = join(tmp.path, 'downloads');
  const args = ['--data-dir', join(tmp.path, 'data'), '--download-dir', downloads, '--peer-port', '0'];
  const pool = createHashPool({ threads: 1 });
  let d: DaemonProcess | null = null;
  try {
    const bodies: string[] = [];
    // The first few through the project's torrent creator (to check the fast path agrees), the
    // rest encoded directly: createTorrent's per-call walk and pool start-up would dominate.
    for (let i = 0; i < options.torrents; i++) {
      const dir = join(downloads, `t${i}`);
      mkdirSync(dir, { recursive: true });
      const data = Buffer.alloc(4096, i & 0xff);
      data.writeUInt32BE(i, 0);
      writeFileSync(join(dir, 'data.bin'), data);
      const bytes = encode({
        info: {
          length: data.length,
          name: 'data.bin',
          'piece length': 16384,
          pieces: new Uint8Array(createHash('sha1').update(data).digest()),
        },
      });
      if (i < 3) {
        const made = await createTorrent(join(dir, 'data.bin'), { hashPool: pool, pieceLengthBytes: 16384 });
        if (!made.infoBytes.every((b, k) => b === bytes[k + 7])) throw new Error('torrent encodings differ');
      }
      bodies.push(
        JSON.stringify({
          torrent: Buffer.from(bytes).toString('base64'),
          downloadDir: `t${i}`,
          paused: true,
        }),
      );
    }
    d = await spawnDaemon(args);
    const rssIdleEmptyBytes = await idleRss(d, options.settleMs);
    const addStarted = performance.now();
    for (const body of bodies) {
      const res = await d.api('/api/torrents', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      if (res.status !== 201) throw new Error(`add failed: ${res.status} ${await res.text()}`);
    }
    const addAllMs = performance.now() - addStarted;
    const rssIdleLoadedBytes = await idleRss(d, options.settleMs);
    const times = await timeLists(d, options.listRequests, options.torrents);
    await d.stop();
    const restartStarted = performance.now();
    d = await spawnDaemon(args);
    const restartMs = performance.now() - restartStarted;
    if (d.info.torrents !== options.torrents) throw new Error('torrents missing after restart');
    const restoreMs = Number(d.info.restoreMs);

    const listed = (await (await d.api('/api/torrents')).json()) as Listed;
    const resumeStarted = performance.now();
    for (const t of listed.torrents) {
      const res = await d.api(`/api/torrents/${t.infoHash}/resume`, { method: 'POST' });
      if (res.status !== 200) throw new Error(`resume failed: ${res.status} ${await res.text()}`);
    }
    const notSeedingAfterResume = await waitAllSeeding(d, 120_000);
    const resumeAllMs = performance.now() - resumeStarted;
    const rssIdleSeedingBytes = await idleRss(d, options.settleMs);
    const seedingTimes = await timeLists(d, options.listRequests, options.torrents);
    await d.stop();
    const restartSeedingStarted = performance.now();
    d = await spawnDaemon(args);
    const restartSeedingMs = performance.now() - restartSeedingStarted;
    const notSeedingAfterRestart = await waitAllSeeding(d, 120_000);
    return {
      torrents: options.torrents,
      rssIdleEmptyBytes,
      rssIdleLoadedBytes,
      addAllMs,
      listP50Ms: percentile(times, 0.5),
      listP99Ms: percentile(times, 0.99),
      listRequests: options.listRequests,
      restartMs,
      restoreMs,
      resumeAllMs,
      rssIdleSeedingBytes,
      listSeedingP50Ms: percentile(seedingTimes, 0.5),
      listSeedingP99Ms: percentile(seedingTimes, 0.99),
      restartSeedingMs,
      restoreSeedingMs: Number(d.info.restoreMs),
      notSeedingAfterResume,
      notSeedingAfterRestart,
    };
  } finally {
    await d?.stop();
    await pool.close();
    tmp.cleanup();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const count = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 1000);
  const r = await benchDaemon({ torrents: count, listRequests: 200, settleMs: 3000 });
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
    process.stdout.write(
      `daemon, ${r.torrents} torrents (paused, 4 KiB each)\n` +
        `  RSS idle, 0 torrents:        ${mb(r.rssIdleEmptyBytes)}\n` +
        `  RSS idle, ${r.torrents} torrents: ${mb(r.rssIdleLoadedBytes)}   (target ≤ 150 MB at 1,000)\n` +
        `  add all over the API:        ${(r.addAllMs / 1000).toFixed(1)} s\n` +
        `  GET /api/torrents p50/p99:   ${r.listP50Ms.toFixed(1)} / ${r.listP99Ms.toFixed(1)} ms over ${r.listRequests}   (target p99 < 50 ms)\n` +
        `  restart (spawn → serving):   ${(r.restartMs / 1000).toFixed(2)} s (restore ${(r.restoreMs / 1000).toFixed(2)} s)\n` +
        `  resumed, all seeding after:  ${(r.resumeAllMs / 1000).toFixed(1)} s\n` +
        `  RSS idle, ${r.torrents} seeding:  ${mb(r.rssIdleSeedingBytes)}\n` +
        `  GET /api/torrents p50/p99:   ${r.listSeedingP50Ms.toFixed(1)} / ${r.listSeedingP99Ms.toFixed(1)} ms (seeding)\n` +
        `  restart, seeding:            ${(r.restartSeedingMs / 1000).toFixed(2)} s (restore ${(r.restoreSeedingMs / 1000).toFixed(2)} s)\n`,
    );
  }
}
