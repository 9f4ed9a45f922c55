/**
 * `peerdrop daemon` (and `npx peerdrop`): the daemon with its HTTP server, `daemon.json` for
 * the CLI, and a clean stop on SIGINT/SIGTERM. Used by the CLI command and by tests.
 */
import { rmSync } from 'node:fs';
import type { EncryptionPolicy } from '../mse/mse-transport.js';
import type { SessionOptions } from '../session/session.js';
import {
  daemonPaths,
  defaultDataDir,
  defaultDownloadDir,
  loadOrCreateToken,
  writeDaemonInfo,
} from './config.js';
import { Daemon } from './daemon.js';
import { type DaemonHttpServer, startHttpServer } from './http-server.js';

export interface RunDaemonOptions {
  readonly port: number;
  readonly bind: string;
  readonly dataDir?: string;
  readonly downloadDir?: string;
  readonly extraHosts?: readonly string[];
  /** Engine listen address (default all); tests use 127.0.0.1. */
  readonly peerHost?: string;
  readonly peerPort?: number;
  /** MSE/PE policy for peer connections (default 'prefer', as `get` and `seed`). */
  readonly encryption?: EncryptionPolicy;
  /**
   * DHT, LSD and PEX, as the CLI resolves them (`cli/dht-options.ts`, with the routing table
   * saved in the daemon's state folder); none when omitted (a library caller).
   */
  readonly discovery?: Pick<SessionOptions, 'dht' | 'lsd' | 'pex'>;
}

export interface RunningDaemon {
  readonly daemon: Daemon;
  readonly http: DaemonHttpServer;
  readonly dataDir: string;
  readonly restoreMs: number;
  stop(): Promise<void>;
}

export async function runDaemon(options: RunDaemonOptions): Promise<RunningDaemon> {
  const dataDir = options.dataDir ?? defaultDataDir();
  const paths = daemonPaths(dataDir);
  const token = loadOrCreateToken(paths);
  const started = performance.now();
  const daemon = await Daemon.open({
    dataDir,
    downloadDir: options.downloadDir ?? defaultDownloadDir(),
    encryption: options.encryption ?? 'prefer',
    session: {
      ...(options.peerHost === undefined ? {} : { host: options.peerHost }),
      ...(options.peerPort === undefined ? {} : { port: options.peerPort }),
      ...options.discovery,
    },
  });
  const restoreMs = performance.now() - started;
  let http: DaemonHttpServer;
  try {
    http = await startHttpServer({
      daemon,
      token,
      host: options.bind,
      port: options.port,
      ...(options.extraHosts ? { extraHosts: options.extraHosts } : {}),
    });
  } catch (err) {
    await daemon.close();
    throw err;
  }
  writeDaemonInfo(paths, { pid: process.pid, port: http.port, host: options.bind, startedAtMs: Date.now() });
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await http.close();
      await daemon.close();
      rmSync(paths.daemonInfo, { force: true });
    })();
    return stopping;
  };
  return { daemon, http, dataDir: paths.dataDir, restoreMs, stop };
}
