import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../ports.js';
import { type Managed, startProcess } from '../process.js';

/**
 * Real BitTorrent programs from Debian, started on 127.0.0.1 only, with the settings that
 * `../shared/recipes/real-clients.md` found make them deterministic on loopback.
 */

export interface RunningClient extends Managed {
  readonly port: number;
}

const LT_SCRIPT = fileURLToPath(new URL('./lt_client.py', import.meta.url));
const LT_ENC_SCRIPT = fileURLToPath(new URL('./lt_enc_client.py', import.meta.url));

/**
 * The `/usr/bin/python3` argument list for {@link startLibtorrent} (benchmarks wrap it in
 * `/usr/bin/time`). `forcedRc4`: encryption forced both ways, RC4 only (lt_enc_client.py).
 */
export function libtorrentArgs(opts: {
  mode: 'seed' | 'leech';
  torrentPath: string;
  dir: string;
  port: number;
  peers?: readonly string[];
  maxSeconds?: number;
  forcedRc4?: boolean;
}): string[] {
  const args = [
    opts.forcedRc4 ? LT_ENC_SCRIPT : LT_SCRIPT,
    opts.mode,
    opts.torrentPath,
    opts.dir,
    String(opts.port),
  ];
  for (const p of opts.peers ?? []) args.push('--peer', p);
  args.push('--max-seconds', String(opts.maxSeconds ?? 120));
  return args;
}

/** libtorrent (python3-libtorrent). Seed: waits for `SEEDING`. Leech: prints `DONE` and exits. */
export async function startLibtorrent(opts: {
  mode: 'seed' | 'leech';
  torrentPath: string;
  dir: string;
  port?: number;
  peers?: readonly string[];
  maxSeconds?: number;
}): Promise<RunningClient> {
  const port = opts.port ?? (await freePort());
  const args = libtorrentArgs({ ...opts, port });
  const proc = startProcess('/usr/bin/python3', args);
  await proc.waitFor(/LISTENING \d+/, 15_000);
  return Object.assign(proc, { port });
}

/** The `/usr/bin/aria2c` argument list for {@link startAria2} (benchmarks wrap it in `/usr/bin/time`). */
export function aria2Args(opts: {
  mode: 'seed' | 'leech';
  torrentPath: string;
  dir: string;
  port: number;
  extraArgs?: readonly string[];
}): string[] {
  const common = [
    `--dir=${opts.dir}`,
    `--listen-port=${opts.port}`,
    '--enable-dht=false',
    '--enable-dht6=false',
    '--bt-enable-lpd=false',
    '--enable-peer-exchange=false',
    '--file-allocation=none',
    '--console-log-level=warn',
    '--summary-interval=1',
    '--bt-tracker-connect-timeout=5',
    '--bt-tracker-timeout=5',
    '--bt-stop-timeout=120',
  ];
  const modeArgs = opts.mode === 'seed' ? ['-V', '--seed-ratio=0.0'] : ['--seed-time=0'];
  return [...common, ...modeArgs, ...(opts.extraArgs ?? []), opts.torrentPath];
}

/** aria2c. Leech exits when done (`--seed-time=0`); seed checks data first (`-V`). */
export async function startAria2(opts: {
  mode: 'seed' | 'leech';
  torrentPath: string;
  dir: string;
  port?: number;
  extraArgs?: readonly string[];
}): Promise<RunningClient> {
  const port = opts.port ?? (await freePort());
  const proc = startProcess('/usr/bin/aria2c', aria2Args({ ...opts, port }));
  return Object.assign(proc, { port });
}

/**
 * The command line for transmission-cli with a private config dir (DHT/LPD/PEX/uTP off, bound to
 * 127.0.0.1, no speed or ratio limits); `encryption` is Transmission's setting (0 prefer
 * plaintext, 1 prefer encrypted, 2 require). Remove `configDir` when the process exits.
 */
export function transmissionCommand(opts: {
  torrentPath: string;
  dir: string;
  port: number;
  encryption?: 0 | 1 | 2;
}): { command: string; args: string[]; configDir: string } {
  const configDir = mkdtempSync(join(tmpdir(), 'peerdrop-tr-'));
  writeFileSync(
    join(configDir, 'settings.json'),
    JSON.stringify({
      ...(opts.encryption === undefined ? {} : { encryption: opts.encryption }),
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'utp-enabled': false,
      'port-forwarding-enabled': false,
      'bind-address-ipv4': '127.0.0.1',
      'bind-address-ipv6': '::1',
      'peer-port': opts.port,
      'peer-port-random-on-start': false,
      'download-dir': opts.dir,
      'speed-limit-up-enabled': false,
      'speed-limit-down-enabled': false,
      'ratio-limit-enabled': false,
      'message-level': 2,
    }),
  );
  const args = ['-o0', '/usr/bin/transmission-cli', '-g', configDir, '-w', opts.dir, '-p', String(opts.port)];
  return { command: 'stdbuf', args: [...args, opts.torrentPath], configDir };
}

/**
 * transmission-cli (see {@link transmissionCommand}). It never exits on completion: wait for
 * "Seeding" in its status line. It will not dial 127.x peers it learns of, but it accepts
 * incoming connections.
 */
export async function startTransmission(opts: {
  torrentPath: string;
  dir: string;
  port?: number;
  encryption?: 0 | 1 | 2;
}): Promise<RunningClient> {
  const port = opts.port ?? (await freePort());
  const { command, args, configDir } = transmissionCommand({ ...opts, port });
  const proc = startProcess(command, args);
  // The private config dir (settings, resume files) goes with the process.
  proc.child.once('exit', () => rmSync(configDir, { recursive: true, force: true }));
  return Object.assign(proc, { port });
}

/** opentracker with a whitelist (Debian's build refuses unknown info-hashes). */
export async function startOpentracker(
  infoHashesHex: readonly string[],
): Promise<Managed & { port: number; announceUrl: string; udpAnnounceUrl: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'peerdrop-ot-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'whitelist.txt'), `${infoHashesHex.join('\n')}\n`, { mode: 0o644 });
  const proc = startProcess('/usr/bin/opentracker', [
    '-i',
    '127.0.0.1',
    '-p',
    String(port),
    '-P',
    String(port),
    '-d',
    dir,
    '-w',
    '/whitelist.txt',
  ]);
  proc.child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await waitForTcp(port, 10_000);
  return Object.assign(proc, {
    port,
    announceUrl: `http://127.0.0.1:${port}/announce`,
    udpAnnounceUrl: `udp://127.0.0.1:${port}/announce`,
  });
}

async function waitForTcp(port: number, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
