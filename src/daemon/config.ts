/**
 * Where the daemon keeps its things, and its access token. Everything lives in one data folder
 * (`--data-dir`, else `$XDG_DATA_HOME/peerdrop`, else `~/.local/share/peerdrop`):
 *   state.db     torrents and settings (SQLite)
 *   token        the access token, 0600, made on first run
 *   daemon.json  port and pid of the running daemon, so the CLI can find it
 *   session/     the engine's resume records (outside every download folder)
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { PeerdropError } from '../util/errors.js';

export const DEFAULT_PORT = 9091;
export const DEFAULT_BIND = '127.0.0.1';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME ? resolve(env.XDG_DATA_HOME) : join(homedir(), '.local', 'share');
  return join(base, 'peerdrop');
}

export function defaultDownloadDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.HOME ? resolve(env.HOME) : homedir(), 'Downloads', 'peerdrop');
}

export interface DaemonPaths {
  readonly dataDir: string;
  readonly db: string;
  readonly token: string;
  readonly daemonInfo: string;
  readonly stateDir: string;
}

export function daemonPaths(dataDir: string): DaemonPaths {
  const dir = resolve(dataDir);
  return {
    dataDir: dir,
    db: join(dir, 'state.db'),
    token: join(dir, 'token'),
    daemonInfo: join(dir, 'daemon.json'),
    stateDir: join(dir, 'session'),
  };
}

/** Tokens are 32 random bytes, base64url: long enough that guessing is hopeless. */
const TOKEN_BYTES = 32;
const MIN_TOKEN_CHARS = 16;

/**
 * The access token: `PEERDROP_TOKEN` when set (scripts, tests), else `<data-dir>/token`, made
 * on first run with 0600 permissions. A token file others can read is tightened, not trusted
 * blindly: its mode is reset to 0600.
 */
export function loadOrCreateToken(paths: DaemonPaths, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PEERDROP_TOKEN;
  if (fromEnv !== undefined && fromEnv !== '') return checkToken(fromEnv, 'PEERDROP_TOKEN');
  mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
  try {
    const text = readFileSync(paths.token, 'utf8').trim();
    if ((statSync(paths.token).mode & 0o077) !== 0) chmodSync(paths.token, 0o600);
    return checkToken(text, paths.token);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  // `wx`: never overwrite a token another process just wrote.
  writeFileSync(paths.token, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return token;
}

/** The token as the CLI finds it (env, else the file); null when there is none yet. */
export function readToken(paths: DaemonPaths, env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.PEERDROP_TOKEN) return env.PEERDROP_TOKEN;
  try {
    return readFileSync(paths.token, 'utf8').trim();
  } catch {
    return null;
  }
}

function checkToken(token: string, where: string): string {
  if (token.length < MIN_TOKEN_CHARS || !/^[\x21-\x7e]+$/.test(token))
    throw new PeerdropError(
      'DAEMON_BAD_TOKEN',
      `${where}: the token must be at least ${MIN_TOKEN_CHARS} printable ASCII characters`,
    );
  return token;
}

/** What `daemon.json` holds: how the CLI reaches the running daemon. */
export interface DaemonInfo {
  readonly pid: number;
  readonly port: number;
  readonly host: string;
  readonly startedAtMs: number;
}

export function writeDaemonInfo(paths: DaemonPaths, info: DaemonInfo): void {
  writeFileSync(paths.daemonInfo, `${JSON.stringify(info)}\n`, { mode: 0o600 });
}

/** The running daemon of this data folder, or null when none runs (no file, or a dead pid). */
export function findRunningDaemon(paths: DaemonPaths): DaemonInfo | null {
  let info: DaemonInfo;
  try {
    info = JSON.parse(readFileSync(paths.daemonInfo, 'utf8')) as DaemonInfo;
  } catch {
    return null;
  }
  if (!Number.isInteger(info.pid) || !Number.isInteger(info.port)) return null;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return null;
  }
  return info;
}
