/**
 * Time to the first byte after a seek to the middle of a downloading file, with a stream reader
 * (its window fetched first) and without one (rarest first), on real sessions in the simulated
 * network (virtual time, so the figures do not depend on the machine's load):
 *   node --import tsx bench/micro/stream-seek.ts [--pieces 256] [--seeders 4] [--seeds 3] [--json]
 */
import { runStreamSeek, type StreamSeekOptions } from '../../test/sim/stream-seek.js';

export interface StreamSeekBenchResult {
  readonly runs: number;
  /** Medians over the runs, virtual ms from the seek to the first byte. */
  readonly firstByteMs: { readonly reader: number; readonly rarestFirst: number };
  /** Medians: pieces verified from the seek to the first byte. */
  readonly pieces: { readonly reader: number; readonly rarestFirst: number };
  /** rarest-first / reader: how many times sooner the first byte comes with the window. */
  readonly ratio: { readonly firstByte: number; readonly pieces: number };
  readonly wallMs: number;
}

export async function runStreamSeekBench(
  o: { pieces?: number; seeders?: number; seeds?: number; seederUploadBps?: number; seekAtMs?: number } = {},
): Promise<StreamSeekBenchResult> {
  const started = performance.now();
  const base: Omit<StreamSeekOptions, 'withReader' | 'seed'> = {
    pieces: o.pieces ?? 256,
    pieceLengthBytes: 64 * 1024,
    seeders: o.seeders ?? 4,
    seederUploadBps: o.seederUploadBps ?? 250_000,
    latencyMs: 20,
    seekFraction: 0.5,
    seekAtMs: o.seekAtMs ?? 1_500,
    readaheadPieces: 4,
  };
  const reader = { ms: [] as number[], pieces: [] as number[] };
  const rarest = { ms: [] as number[], pieces: [] as number[] };
  for (let seed = 1; seed <= (o.seeds ?? 3); seed++) {
    const a = await runStreamSeek({ ...base, seed, withReader: true });
    const b = await runStreamSeek({ ...base, seed, withReader: false });
    reader.ms.push(a.firstByteMs);
    reader.pieces.push(a.piecesToFirstByte.length);
    rarest.ms.push(b.firstByteMs);
    rarest.pieces.push(b.piecesToFirstByte.length);
  }
  const firstByteMs = { reader: median(reader.ms), rarestFirst: median(rarest.ms) };
  const pieces = { reader: median(reader.pieces), rarestFirst: median(rarest.pieces) };
  return {
    runs: reader.ms.length,
    firstByteMs,
    pieces,
    ratio: {
      firstByte: round(firstByteMs.rarestFirst / Math.max(1, firstByteMs.reader)),
      pieces: round(pieces.rarestFirst / Math.max(1, pieces.reader)),
    },
    wallMs: Math.round(performance.now() - started),
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return Math.round(s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2);
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v)) throw new Error(`--${name} must be a number`);
  return v;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runStreamSeekBench({
    pieces: arg('pieces', 256),
    seeders: arg('seeders', 4),
    seeds: arg('seeds', 3),
    seederUploadBps: arg('upload', 250_000),
  });
  process.stdout.write(`${JSON.stringify(r, null, process.argv.includes('--json') ? 0 : 2)}\n`);
}
