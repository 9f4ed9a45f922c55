import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Real programs from Debian that interop tests drive. In CI (`CI=true`) a missing program is
 * a test failure, never a silent skip; locally the test is skipped with a printed reason.
 */
export const REAL_CLIENTS = {
  mktorrent: { bin: '/usr/bin/mktorrent', pkg: 'mktorrent' },
  transmissionCreate: { bin: '/usr/bin/transmission-create', pkg: 'transmission-cli' },
  transmissionCli: { bin: '/usr/bin/transmission-cli', pkg: 'transmission-cli' },
  transmissionDaemon: { bin: '/usr/bin/transmission-daemon', pkg: 'transmission-daemon' },
  aria2c: { bin: '/usr/bin/aria2c', pkg: 'aria2' },
  opentracker: { bin: '/usr/bin/opentracker', pkg: 'opentracker' },
  chromium: { bin: '/usr/bin/chromium', pkg: 'chromium' },
  libtorrent: { bin: '/usr/bin/python3', pkg: 'python3-libtorrent', probe: ['-c', 'import libtorrent'] },
  postgres: { bin: '/usr/lib/postgresql/15/bin/pg_ctl', pkg: 'postgresql' },
} as const;

export type RealClient = keyof typeof REAL_CLIENTS;

const cache = new Map<RealClient, boolean>();

export function hasRealClient(name: RealClient): boolean {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const spec = REAL_CLIENTS[name];
  let ok = existsSync(spec.bin);
  if (ok && 'probe' in spec) ok = spawnSync(spec.bin, spec.probe, { stdio: 'ignore' }).status === 0;
  cache.set(name, ok);
  return ok;
}

/**
 * For `test(name, { skip: skipUnless('mktorrent') }, ...)`: false when present; a reason string
 * (the test is skipped) when missing locally; throws in CI so the run fails loudly.
 */
export function skipUnless(...names: RealClient[]): string | false {
  const missing = names.filter((n) => !hasRealClient(n));
  if (missing.length === 0) return false;
  const pkgs = missing.map((n) => REAL_CLIENTS[n].pkg).join(' ');
  const reason = `missing real client(s): ${missing.join(', ')} (apt-get install -y ${pkgs})`;
  if (process.env.CI === 'true') throw new Error(`${reason}: required in CI`);
  process.stderr.write(`# skip: ${reason}\n`);
  return reason;
}
