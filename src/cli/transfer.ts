import { join } from 'node:path';
import type { Session } from '../session/session.js';
import type { TorrentHandle } from '../session/torrent-handle.js';
import type { TorrentStatus } from '../session/torrent-types.js';
import { sanitizeForTerminal } from '../util/terminal-text.js';
import { describeError } from './errors.js';
import { bar, columnsOf, fitLine } from './line-fit.js';
import { formatBytes, onStdoutClosed, printJsonLine, usageError } from './output.js';

/**
 * Shared by `get`, `seed` and `share`: the live status line (TTY), `--json` event lines,
 * and Ctrl-C handling (trackers told `stopped`, peers closed, resume data saved, exit within
 * 2 s; a second Ctrl-C exits at once).
 */
export interface TransferOutput {
  readonly isJson: boolean;
  /** Keep running after completion (seeding) until interrupted. */
  readonly keepSeeding: boolean;
  /** `--peer` addresses the user gave: a failure to reach one is said plainly. */
  readonly manualPeers?: readonly string[];
  /** After this long with nothing arriving, say why and what to do (default 15 s). */
  readonly stallHintMs?: number;
  /** The download folder: the done line says where the files are. */
  readonly dir?: string;
  /** What to do about a warning, by code, appended to its message (e.g. seed's `--download-missing`). */
  readonly warningHints?: Readonly<Record<string, string>>;
}

/** Why nothing arrives, in words a newcomer can act on (exported for tests). */
export function stallHint(s: TorrentStatus): { code: string; message: string } {
  const known = s.knownPeers ?? 0;
  const sources = s.sources && s.sources.length > 0 ? s.sources.join(', ') : 'none';
  const hasDht = s.sources?.includes('dht') ?? false;
  const next = `add a peer with --peer host:port or a tracker (magnet tr= or --tracker)${hasDht ? '; the DHT is searching too' : ', or turn the DHT on (no --no-dht; private torrents never use it)'}`;
  if (known === 0)
    return {
      code: 'NO_PEERS_FOUND',
      message: `no peer found yet (peer sources running: ${sources}); ${next}`,
    };
  if (s.peers === 0)
    return {
      code: 'NO_PEER_REACHABLE',
      message: `heard of ${known} peer(s) but none could be reached (firewall, wrong port, or they left); ${next}`,
    };
  return {
    code: 'PEERS_NOT_SENDING',
    message: `connected to ${s.peers} peer(s) but none is sending: they may lack the pieces (${s.seeds} seed(s)) or be choking us; wait, or ${next}`,
  };
}

/** `1,3-5` → [1, 3, 4, 5] (indices of the files `peerdrop info` lists, from 0). */
export function parseFileSelection(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw usageError(`--files: ${JSON.stringify(part)} is not an index or a range like 3-5`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to - from > 1_000_000) throw usageError(`--files: bad range ${JSON.stringify(part)}`);
    for (let i = from; i <= to; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

export function formatRate(bytesPerSec: number): string {
  return `${formatBytes(Math.round(bytesPerSec))}/s`;
}

function formatEta(seconds: number | null): string {
  if (seconds === null) return '--';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The live status line, fitted to `columns` (the terminal's width; 80 for logs): the bar
 * shrinks or goes before anything else is cut. At full width:
 * `downloading  42.1% [########............] down 1.21 MiB/s up 0 B/s peers 3/12 eta 1m05s`.
 */
export function statusLine(s: TorrentStatus, columns = 80): string {
  const pct = `${(s.progress * 100).toFixed(1).padStart(5)}%`;
  const known = s.knownPeers === undefined ? '' : `/${s.knownPeers}`;
  const tail = `down ${formatRate(s.downloadRate)} up ${formatRate(s.uploadRate)} peers ${s.peers}${known} eta ${formatEta(s.etaSeconds)}`;
  return fitLine(
    (width) => `${s.state.padEnd(11)} ${pct} ${width > 0 ? `${bar(s.progress, width)} ` : ''}${tail}`,
    20,
    columns,
  );
}

/**
 * Follow one torrent until done (or forever with `keepSeeding`), printing status, and close
 * the session on completion or Ctrl-C. Resolves with the process exit code.
 */
export function followTransfer(
  session: Session,
  handle: TorrentHandle,
  out: TransferOutput,
): Promise<number> {
  const isTty = process.stderr.isTTY && !out.isJson;
  let lastLineAt = 0;
  return new Promise((resolve) => {
    let isFinishing = false;
    const finish = async (code: number) => {
      if (isFinishing) return;
      isFinishing = true;
      clearInterval(hintTimer);
      stopWatchingStdout();
      if (isTty) process.stderr.write('\n');
      const hardExit = setTimeout(() => resolve(code), 2000);
      hardExit.unref();
      await session.close().catch(() => {});
      clearTimeout(hardExit);
      resolve(code);
    };
    const onSignal = () => {
      if (isFinishing) process.exit(130);
      if (!out.isJson) process.stderr.write('\nstopping (saving resume data)…\n');
      void finish(130);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // `peerdrop get x --json | head -1`: the reader left; stop as Ctrl-C would, quietly.
    const stopWatchingStdout = onStdoutClosed(() => void finish(0));
    const startedAt = Date.now();
    const first = handle.status();
    if (out.isJson)
      printJsonLine({
        event: 'started',
        port: session.port,
        sources: first.sources ?? [],
        knownPeers: first.knownPeers ?? 0,
      });
    else
      process.stderr.write(
        `listening on port ${session.port}; peer sources: ${(first.sources ?? []).join(', ') || 'none'}${out.manualPeers?.length ? `, ${out.manualPeers.length} peer(s) given` : ''}\n`,
      );
    let hasHinted = false;
    // PEERDROP_STALL_HINT_MS lets tests see the hint without waiting 15 s.
    const stallAfterMs = out.stallHintMs ?? (Number(process.env.PEERDROP_STALL_HINT_MS) || 15_000);
    let lastProgressAt = Date.now();
    const hintTimer = setInterval(() => {
      const s = handle.status();
      // A magnet waiting for its metadata, or a torrent with no peer, emits no progress: the
      // line is drawn from the status here, so the state and peer counts are always on screen.
      if (Date.now() - lastProgressAt >= 1500) showProgress(s);
      const isWaiting = (s.state === 'downloading' || s.state === 'metadata') && s.downloadedBytes === 0;
      if (hasHinted || !isWaiting || Date.now() - startedAt < stallAfterMs) return;
      hasHinted = true;
      const hint = stallHint(s);
      if (out.isJson) printJsonLine({ event: 'stalled', ...hint });
      else process.stderr.write(`${isTty ? '\r\x1b[K' : ''}nothing is arriving: ${hint.message}\n`);
    }, 1000);
    hintTimer.unref();
    const manual = new Set(out.manualPeers ?? []);
    const reported = new Set<string>();
    // A peer that connected once and later left is not "unreachable"; only dials that never
    // got through are reported.
    const connected = new Set<string>();
    const showProgress = (s: TorrentStatus) => {
      lastProgressAt = Date.now();
      if (out.isJson) printJsonLine({ event: 'progress', ...s });
      else if (isTty) process.stderr.write(`\r${statusLine(s, columnsOf(process.stderr))}\x1b[K`);
      else if (Date.now() - lastLineAt > 5000) {
        lastLineAt = Date.now();
        process.stderr.write(`${statusLine(s)}\n`);
      }
    };
    handle.on('progress', showProgress);
    handle.on('peer', (p) => {
      if (out.isJson) printJsonLine({ event: 'peer', ...p });
      if (p.kind === 'connected') connected.add(p.address);
      // A dial that failed before the handshake: say so for the peers the user typed.
      if (
        p.kind === 'disconnected' &&
        !isFinishing &&
        manual.has(p.address) &&
        !connected.has(p.address) &&
        !reported.has(p.address)
      ) {
        reported.add(p.address);
        const message = `could not connect to ${p.address}: ${sanitizeForTerminal(p.reason ?? 'unknown reason')}`;
        if (out.isJson) printJsonLine({ event: 'warning', code: 'PEER_UNREACHABLE', message });
        else process.stderr.write(`${isTty ? '\r\x1b[K' : ''}warning: ${message}\n`);
      }
    });
    handle.on('warning', (w) => {
      const hint = out.warningHints?.[w.code];
      const message = hint === undefined ? w.message : `${w.message}; ${hint}`;
      if (out.isJson) printJsonLine({ event: 'warning', code: w.code, message });
      else process.stderr.write(`${isTty ? '\r\x1b[K' : ''}warning: ${sanitizeForTerminal(message)}\n`);
    });
    handle.on('metadata', (m) => {
      if (out.isJson) printJsonLine({ event: 'metadata', name: m.name, totalLength: m.totalLengthBytes });
    });
    handle.on('error', (err) => {
      const described = describeError(err);
      if (out.isJson) printJsonLine({ event: 'error', message: described.message, code: described.code });
      else process.stderr.write(`${isTty ? '\r\x1b[K' : ''}peerdrop: ${described.message}\n`);
      void finish(1);
    });
    handle.done().then(
      () => {
        const s = handle.status();
        // Where the files are: the torrent's name inside the download folder.
        const path = out.dir === undefined ? undefined : join(out.dir, s.name);
        if (out.isJson) printJsonLine({ event: 'done', ...s, ...(path === undefined ? {} : { path }) });
        else
          process.stderr.write(
            `${isTty ? '\r\x1b[K' : ''}done: ${sanitizeForTerminal(s.name)} (${formatBytes(s.wantedBytes)})${path === undefined ? '' : ` at ${sanitizeForTerminal(path)}`}\n`,
          );
        if (!out.keepSeeding) void finish(0);
        else if (!out.isJson) process.stderr.write('seeding; press Ctrl-C to stop\n');
      },
      () => {},
    );
  });
}
