/**
 * Tracker soak: a bounded run of mixed UDP announces (none, started, stopped, completed) and
 * scrapes against an in-process `peerdrop tracker`, memory sampled every second, answers checked.
 *
 *   node --import tsx bench/versus/tracker-soak.ts [--seconds 60] [--torrents 500] [--peers 50] [--json]
 *
 * The driver keeps its own model of every synthetic peer (in the swarm or not, seeder or not).
 * Checks: every announce answer lists only peers of that torrent's swarm, never the asker, no
 * duplicates, at most numwant; once a second the driver lets its requests drain, then scrapes a
 * sample of torrents and compares seeders/leechers with the model and with the registry
 * (exact). Memory: heap and RSS after each drain; `heapGrowth` is the last 10 samples' mean
 * over the first 10's (after a warm-up second). The index's searches are the index bench's.
 */
import { createSocket } from 'node:dgram';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startTrackerServer } from '../../src/tracker/server/tracker-server.js';
import { infoHashOf, peerIdOf } from './tracker-udp-loadgen.js';

export interface SoakOptions {
  readonly seconds: number;
  readonly torrents: number;
  readonly peersPerTorrent: number;
}

export interface SoakResult {
  readonly seconds: number;
  readonly announces: number;
  readonly scrapes: number;
  readonly checkedAnswers: number;
  readonly wrongAnswers: number;
  readonly wrongExamples: readonly string[];
  readonly samples: readonly { readonly heapMiB: number; readonly rssMiB: number }[];
  /** Mean heap of the last 10 samples / mean of the first 10 (1.0 = flat). */
  readonly heapGrowth: number;
}

const NUM_WANT = 30;

/** A full GC before each memory sample, so the samples show what is kept, not GC timing. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return typeof gc === 'function' ? gc : () => {};
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const server = await startTrackerServer({ httpPort: null, udpPort: 0, rateLimitPerSecond: 0 });
  const port = Number(new URL(server.udpAnnounceUrl!).port);
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  socket.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const T = o.torrents;
  const P = o.peersPerTorrent;
  // Model: 0 = not in the swarm, 1 = leecher, 2 = seeder.
  const state = new Uint8Array(T * P);
  const pending = new Map<number, { kind: 'announce' | 'scrape'; t: number; p: number; hashes?: number[] }>();
  let cid: Buffer | null = null;
  let tid = 1;
  let rng = 12345;
  const rand = (n: number): number => {
    rng = (Math.imul(rng, 1664525) + 1013904223) >>> 0;
    return rng % n;
  };
  let announces = 0;
  let scrapes = 0;
  let checked = 0;
  let wrong = 0;
  const examples: string[] = [];
  const fail = (why: string): void => {
    wrong++;
    if (examples.length < 10) examples.push(why);
  };
  let drainWaiter: (() => void) | null = null;
  let scrapeWaiter: ((counts: number[]) => void) | null = null;

  socket.on('message', (m: Buffer) => {
    const action = m.readUInt32BE(0);
    const id = m.readUInt32BE(4);
    if (action === 0) {
      cid = m.subarray(8, 16);
      return;
    }
    const req = pending.get(id);
    if (!req) return;
    pending.delete(id);
    if (action === 1 && req.kind === 'announce') {
      checked++;
      const ports = new Set<number>();
      const n = (m.length - 20) / 6;
      if (n > NUM_WANT) fail(`announce answered ${n} peers for numwant ${NUM_WANT}`);
      for (let i = 0; i < n; i++) {
        const at = 20 + 6 * i;
        const ip = m.readUInt32BE(at);
        const pp = m.readUInt16BE(at + 4) - 10_000;
        if (ip !== 0x7f000001 || pp < 0 || pp >= P) fail(`torrent ${req.t}: peer outside the swarm`);
        else if (pp === req.p) fail(`torrent ${req.t}: the asker ${req.p} was sent itself`);
        else if (ports.has(pp)) fail(`torrent ${req.t}: peer ${pp} twice`);
        ports.add(pp);
      }
    } else if (action === 2 && req.kind === 'scrape') {
      const counts: number[] = [];
      for (let at = 8; at + 12 <= m.length; at += 12) counts.push(m.readUInt32BE(at), m.readUInt32BE(at + 8));
      scrapeWaiter?.(counts);
    } else if (action === 3) {
      fail(`error answer: ${m.subarray(8).toString()}`);
      if (m.subarray(8).toString().includes('connection id')) cid = null;
    }
    if (pending.size === 0) drainWaiter?.();
  });

  const connect = async (): Promise<void> => {
    while (cid === null) {
      const p = Buffer.alloc(16);
      p.writeBigUInt64BE(0x41727101980n, 0);
      p.writeUInt32BE(0, 8);
      p.writeUInt32BE(0xffffffff, 12);
      socket.send(p);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const announce = (t: number, p: number): void => {
    const i = t * P + p;
    // Mostly re-announces; sometimes a peer leaves, joins, or completes.
    const roll = rand(100);
    let event = 0;
    let next = state[i]!;
    if (state[i] === 0) {
      event = 2;
      next = rand(5) === 0 ? 2 : 1;
    } else if (roll < 5) {
      event = 3;
      next = 0;
    } else if (roll < 8 && state[i] === 1) {
      event = 1;
      next = 2;
    }
    state[i] = next;
    const b = Buffer.alloc(98);
    cid!.copy(b, 0);
    b.writeUInt32BE(1, 8);
    const id = tid++ >>> 0;
    b.writeUInt32BE(id, 12);
    infoHashOf(t).copy(b, 16);
    peerIdOf(t, p).copy(b, 36);
    b.writeBigUInt64BE(next === 2 || next === 0 ? 0n : 1000n, 64);
    b.writeUInt32BE(event, 80);
    b.writeUInt32BE((t * 7919 + p) >>> 0, 88);
    b.writeInt32BE(NUM_WANT, 92);
    b.writeUInt16BE(10_000 + p, 96);
    pending.set(id, { kind: 'announce', t, p });
    announces++;
    socket.send(b);
  };

  const scrape = (hashes: number[]): void => {
    const b = Buffer.alloc(16 + 20 * hashes.length);
    cid!.copy(b, 0);
    b.writeUInt32BE(2, 8);
    const id = tid++ >>> 0;
    b.writeUInt32BE(id, 12);
    for (const [k, t] of hashes.entries()) infoHashOf(t).copy(b, 16 + 20 * k);
    pending.set(id, { kind: 'scrape', t: -1, p: -1, hashes });
    scrapes++;
    socket.send(b);
  };

  const drain = async (): Promise<void> => {
    if (pending.size === 0) return;
    await Promise.race([
      new Promise<void>((r) => {
        drainWaiter = r;
      }),
      new Promise((r) => setTimeout(r, 1000)),
    ]);
    drainWaiter = null;
    pending.clear(); // anything still missing after 1 s is lost on the loopback: forget it
  };

  const checkSample = async (): Promise<void> => {
    const hashes = Array.from({ length: 20 }, () => rand(T));
    const got = new Promise<number[]>((r) => {
      scrapeWaiter = r;
    });
    scrape(hashes);
    const counts = await Promise.race([got, new Promise<number[]>((r) => setTimeout(() => r([]), 1000))]);
    scrapeWaiter = null;
    const stats = server.registry.swarmStats(hashes.map(infoHashOf));
    hashes.forEach((t, k) => {
      let seeders = 0;
      let leechers = 0;
      for (let p = 0; p < P; p++) {
        if (state[t * P + p] === 2) seeders++;
        else if (state[t * P + p] === 1) leechers++;
      }
      checked++;
      const s = stats[k];
      const reg = s ? [s.complete, s.incomplete] : [0, 0];
      if (counts[2 * k] !== seeders || counts[2 * k + 1] !== leechers)
        fail(`scrape of torrent ${t}: ${counts[2 * k]}/${counts[2 * k + 1]}, model ${seeders}/${leechers}`);
      if (reg[0] !== seeders || reg[1] !== leechers)
        fail(`registry for torrent ${t}: ${reg[0]}/${reg[1]}, model ${seeders}/${leechers}`);
    });
  };

  const samples: { heapMiB: number; rssMiB: number }[] = [];
  const gc = collector();
  try {
    await connect();
    const end = performance.now() + o.seconds * 1000;
    let nextSample = performance.now() + 1000;
    while (performance.now() < end) {
      if (cid === null) await connect();
      // A burst of up to 256 requests, then yield so answers are read.
      for (let k = 0; k < 256 && pending.size < 256; k++) {
        if (rand(20) === 0) scrape(Array.from({ length: 1 + rand(5) }, () => rand(T)));
        else announce(rand(T), rand(P));
      }
      await new Promise((r) => setImmediate(r));
      if (performance.now() >= nextSample) {
        await drain();
        await checkSample();
        gc();
        const m = process.memoryUsage();
        samples.push({ heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 });
        nextSample = performance.now() + 1000;
      }
    }
    await drain();
  } finally {
    socket.close();
    await server.close();
  }
  const mean = (xs: readonly { heapMiB: number }[]): number =>
    xs.reduce((a, x) => a + x.heapMiB, 0) / Math.max(1, xs.length);
  const steady = samples.slice(1);
  const k = Math.min(10, Math.floor(steady.length / 2));
  return {
    seconds: o.seconds,
    announces,
    scrapes,
    checkedAnswers: checked,
    wrongAnswers: wrong,
    wrongExamples: examples,
    samples,
    heapGrowth: k > 0 ? mean(steady.slice(-k)) / mean(steady.slice(0, k)) : 1,
  };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const r = await runSoak({
    seconds: arg('--seconds', 60),
    torrents: arg('--torrents', 500),
    peersPerTorrent: arg('--peers', 50),
  });
  if (process.argv.includes('--json')) {
    const { samples, ...rest } = r;
    process.stdout.write(
      `${JSON.stringify({ bench: 'tracker-soak', ...rest, heapMiB: samples.map((s) => Math.round(s.heapMiB * 10) / 10) })}\n`,
    );
  } else {
    process.stdout.write(
      `tracker soak ${r.seconds} s: ${r.announces} announces, ${r.scrapes} scrapes; ${r.checkedAnswers} answers checked, ${r.wrongAnswers} wrong\n` +
        `heap MiB per second: ${r.samples.map((s) => s.heapMiB.toFixed(1)).join(' ')}\n` +
        `heap growth (last 10 s / first 10 s): ${r.heapGrowth.toFixed(2)}; RSS at end ${r.samples.at(-1)?.rssMiB.toFixed(0)} MiB\n` +
        (r.wrongExamples.length ? `wrong: ${r.wrongExamples.join('; ')}\n` : ''),
    );
  }
}
