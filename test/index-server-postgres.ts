import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers/ports.js';

/**
 * A throwaway PostgreSQL cluster (recipe §2a of /work/shared/recipes/deps.md): initdb in a temp
 * dir, a random port on 127.0.0.1, no fsync; `stop()` kills it and deletes the folder. As root
 * the server runs as the `postgres` user through runuser.
 */
export interface ThrowawayPostgres {
  readonly url: string;
  readonly port: number;
  stop(): void;
}

export function postgresBinDir(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(a) - Number(b));
  const last = versions.at(-1);
  return last === undefined ? null : join(base, last, 'bin');
}

/** Server settings for benchmarks (tests keep the defaults). */
export interface ThrowawayPostgresSettings {
  readonly sharedBuffers?: string;
  readonly workMem?: string;
}

export async function startThrowawayPostgres(
  settings: ThrowawayPostgresSettings = {},
): Promise<ThrowawayPostgres> {
  const bin = postgresBinDir();
  if (bin === null) throw new Error('PostgreSQL is not installed (apt-get install -y postgresql)');
  const isRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'pgtest-'));
  chmodSync(dir, 0o755);
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (exe: string, args: string[]): void => {
    const cmd = isRoot ? 'runuser' : join(bin, exe);
    const full = isRoot ? ['-u', 'postgres', '--', join(bin, exe), ...args] : args;
    const r = spawnSync(cmd, full, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${exe} failed: ${r.stderr?.toString() ?? ''}`);
  };
  const port = await freePort();
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off${
    settings.sharedBuffers ? ` -c shared_buffers=${settings.sharedBuffers}` : ''
  }${settings.workMem ? ` -c work_mem=${settings.workMem}` : ''}`;
  run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-o', opts, 'start']);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
