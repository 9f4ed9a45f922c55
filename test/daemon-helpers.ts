/** Helpers for the daemon tests: a daemon in this process, or the real CLI process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, type DaemonOptions } from '../src/daemon/daemon.js';
import { type DaemonHttpServer, type HttpServerOptions, startHttpServer } from '../src/daemon/http-server.js';
import { createTorrent } from '../src/storage/create-torrent.js';
import { CLI_PATH } from './helpers/cli.js';

export const TOKEN = 'test-token-0123456789abcdefghij';

export interface InProcess {
  readonly daemon: Daemon;
  readonly http: DaemonHttpServer;
  readonly base: string;
  fetch(path: string, init?: RequestInit & { auth?: string | false }): Promise<Response>;
  close(): Promise<void>;
}

export async function startInProcess(
  root: string,
  http: Partial<Omit<HttpServerOptions, 'daemon'>> = {},
  options: Partial<DaemonOptions> = {},
): Promise<InProcess> {
  const daemon = await Daemon.open({
    dataDir: join(root, 'data'),
    downloadDir: join(root, 'downloads'),
    session: { host: '127.0.0.1', port: 0, udp: false },
    ...options,
  });
  const server = await startHttpServer({ daemon, token: TOKEN, host: '127.0.0.1', port: 0, ...http });
  const base = server.url;
  return {
    daemon,
    http: server,
    base,
    fetch: (path, init = {}) => {
      const { auth, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (auth !== false && !headers.has('authorization'))
        headers.set('authorization', `Bearer ${auth ?? TOKEN}`);
      return fetch(base + path, { ...rest, headers, signal: AbortSignal.timeout(20_000) });
    },
    close: async () => {
      await server.close();
      await daemon.close();
    },
  };
}

/** Content with a NUL byte and a seeded pattern, deterministic. */
export function content(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  out[0] = 0;
  return out;
}

/** A folder torrent with its data written under `dir/<name>/`; returns the torrent bytes and files. */
export async function makeTorrent(
  dir: string,
  name: string,
  files: Record<string, Uint8Array>,
  pieceLengthBytes = 16384,
): Promise<{ bytes: Uint8Array; infoHash: string; magnet: string }> {
  const top = join(dir, name);
  for (const [path, data] of Object.entries(files)) {
    const full = join(top, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, data);
  }
  const created = await createTorrent(top, { pieceLengthBytes, threads: 1 });
  return {
    bytes: created.torrentBytes,
    infoHash: Buffer.from(created.infoHash!).toString('hex'),
    magnet: created.magnet,
  };
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly base: string;
  readonly info: Record<string, unknown>;
  api(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** The real CLI: `peerdrop daemon --port 0 --json`, resolved when it prints its address. */
export function spawnDaemon(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, 'daemon', '--port', '0', '--json', ...args], {
      env: { ...process.env, PEERDROP_TOKEN: TOKEN, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`daemon did not start: ${err}`));
    }, 30_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('exit', (code) => reject(new Error(`daemon exited ${code}: ${err}`)));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n')[0];
      if (!out.includes('\n') || !line) return;
      clearTimeout(timer);
      const info = JSON.parse(line) as Record<string, unknown>;
      const base = String(info.url);
      const port = Number(base.slice(base.lastIndexOf(':') + 1));
      resolve({
        child,
        port,
        base,
        info,
        api: (path, init = {}) => {
          const headers = new Headers(init.headers);
          headers.set('authorization', `Bearer ${TOKEN}`);
          return fetch(base + path, { ...init, headers, signal: AbortSignal.timeout(20_000) });
        },
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

export function json(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
