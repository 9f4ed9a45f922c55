/**
 * The shapes the daemon's core (daemon.ts) takes and gives: its options, add requests, the
 * torrent and file views the HTTP API, the Transmission RPC and the CLI show, and its events.
 */

import type { EncryptionPolicy } from '../mse/mse-transport.js';
import type { DestinationPolicy } from '../net/outbound-guard.js';
import type { SessionOptions } from '../session/session.js';
import type { Scheduler } from '../util/clock.js';
import type { TorrentView } from './view-types.js';

export type { FileView, TorrentView } from './view-types.js';

export type DaemonLogLevel = 'info' | 'warn';

export interface DaemonOptions {
  readonly dataDir: string;
  /** The download root: every torrent's folder is inside it. */
  readonly downloadDir: string;
  /** Passed to the engine (tests: host 127.0.0.1); `stateDir` is always `<data-dir>/session`. */
  readonly session?: Omit<SessionOptions, 'stateDir'>;
  /** Wall-clock time (epoch ms): added-at stamps, the alternative-speed schedule. */
  readonly now?: () => number;
  /** Timers of the daemon's own jobs (queue, goals, schedule, watch folder, feeds). */
  readonly scheduler?: Scheduler;
  /** Where the daemon's own messages go (watch folder, feeds, goals); default nowhere. */
  readonly log?: (level: DaemonLogLevel, message: string) => void;
  /** Who feeds may be fetched from (default: public addresses only; tests allow loopback). */
  readonly fetchPolicy?: DestinationPolicy;
  /** Torrents restored at once at start (each opens storage and reads its resume record). */
  readonly restoreConcurrency?: number;
  /**
   * MSE/PE for peer connections (default 'off' for a library caller; `peerdrop daemon` says
   * 'prefer', as the CLI commands do). Ignored when `session.transport` is given.
   */
  readonly encryption?: EncryptionPolicy;
}

export interface AddRequest {
  readonly torrent?: Uint8Array;
  readonly magnet?: string;
  /** Relative to (or inside) the download root. */
  readonly downloadDir?: string;
  readonly isPaused?: boolean;
  readonly labels?: readonly string[];
  /** File indices to download (others priority 0); all when omitted. */
  readonly files?: readonly number[];
}

export interface DaemonEvents {
  [key: string]: (...args: never[]) => void;
  added: (view: TorrentView) => void;
  removed: (infoHash: string, id: number) => void;
  changed: (infoHash: string) => void;
}
