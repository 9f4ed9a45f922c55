import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createJsonLogger, silentLogger } from '../../tracker/server/log.js';
import { isValidPasskey } from '../../tracker/server/passkey.js';
import { startTrackerServer } from '../../tracker/server/tracker-server.js';
import { fromHex } from '../../util/bytes.js';
import { errorMessage } from '../../util/errors.js';
import { parsePortOption } from '../options.js';
import { CliError, usageError } from '../output.js';

/**
 * `peerdrop tracker [--http-port 8000] [--udp-port 8000] [--bind ADDR] [--allow-list FILE]
 * [--private --passkeys FILE] [--json-logs] [--max-torrents N] [--max-connections N]
 * [--max-connections-per-ip N]`: a BitTorrent tracker (HTTP BEP 3/23/7/48, UDP
 * BEP 15/41). Prints the announce URLs it serves, runs until SIGINT/SIGTERM (closing within
 * 2 s); SIGHUP re-reads the allow-list and passkey files.
 */
interface TrackerOptions {
  httpPort: string;
  udpPort: string;
  bind: string;
  allowList?: string;
  private?: boolean;
  passkeys?: string;
  jsonLogs?: boolean;
  interval: string;
  rateLimit: string;
  maxPeers?: string;
  maxTorrents: string;
  maxConnections: string;
  maxConnectionsPerIp: string;
  statsRateLimit: string;
}

function parsePort(text: string, flag: string): number | null {
  return text === 'off' ? null : parsePortOption(text, flag, { allowZero: true });
}

function parseCount(text: string, flag: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw usageError(`${flag} must be an integer >= ${min}, got ${text}`);
  }
  return n;
}

function readLines(file: string, what: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} ${file}: ${errorMessage(err)}`);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** 40-hex v1 info-hashes, one a line (`#` comments allowed). */
export function readAllowList(file: string): Uint8Array[] {
  return readLines(file, 'allow-list').map((line, i) => {
    const bytes = line.length === 40 ? fromHex(line) : null;
    if (bytes === null)
      throw new CliError(`${file}: entry ${i + 1} is not a 40-hex info-hash: ${line.slice(0, 60)}`);
    return bytes;
  });
}

function readPasskeys(file: string): string[] {
  return readLines(file, 'passkeys file').map((line, i) => {
    if (!isValidPasskey(line))
      throw new CliError(`${file}: passkey ${i + 1} must be 1-128 of A-Z a-z 0-9 _ . ~ -`);
    return line;
  });
}

export function register(program: Command): void {
  program
    .command('tracker')
    .description('run a BitTorrent tracker (HTTP and UDP announce/scrape, /stats, /metrics)')
    .option('--http-port <port>', 'HTTP port (0 = any free port, off = no HTTP)', '8000')
    .option('--udp-port <port>', 'UDP port (0 = any free port, off = no UDP)', '8000')
    .option('--bind <address>', 'address to listen on (0.0.0.0 or :: for all)', '127.0.0.1')
    .option('--allow-list <file>', 'track only these info-hashes (40 hex digits per line; SIGHUP reloads)')
    .option('--private', 'require a passkey: /announce/<passkey> or ?passkey=')
    .option('--passkeys <file>', 'accepted passkeys, one per line (with --private; SIGHUP reloads)')
    .option('--json-logs', 'structured logs as JSON lines on stderr')
    .option('--interval <seconds>', 're-announce interval sent to clients', '1800')
    .option('--rate-limit <n>', 'requests per second per IP (burst 4x); 0 = unlimited', '20')
    .option('--max-peers <n>', 'cap on peers held in memory (stalest evicted)')
    .option('--max-torrents <n>', 'cap on torrents tracked (new info-hashes refused beyond it)', '100000')
    .option('--max-connections <n>', 'HTTP connections at once (longest-idle closed to make room)', '10000')
    .option('--max-connections-per-ip <n>', 'HTTP connections at once per address (IPv6: per /64)', '64')
    .option('--stats-rate-limit <n>', '/stats and /metrics requests per second per IP; 0 = unlimited', '2')
    .action(async (o: TrackerOptions) => {
      await runTracker(o);
    });
}

async function runTracker(o: TrackerOptions): Promise<void> {
  const httpPort = parsePort(o.httpPort, '--http-port');
  const udpPort = parsePort(o.udpPort, '--udp-port');
  if (httpPort === null && udpPort === null) throw usageError('both --http-port and --udp-port are off');
  if (o.private && !o.passkeys) throw usageError('--private needs --passkeys FILE');
  if (o.passkeys && !o.private) throw usageError('--passkeys only makes sense with --private');
  const intervalSeconds = parseCount(o.interval, '--interval', 1);
  const rateLimitPerSecond = parseCount(o.rateLimit, '--rate-limit', 0);
  const maxPeers = o.maxPeers === undefined ? undefined : parseCount(o.maxPeers, '--max-peers', 1);
  const maxTorrents = parseCount(o.maxTorrents, '--max-torrents', 1);
  const httpLimits = {
    maxConnections: parseCount(o.maxConnections, '--max-connections', 1),
    maxConnectionsPerAddress: parseCount(o.maxConnectionsPerIp, '--max-connections-per-ip', 1),
  };
  const statsRateLimitPerSecond = parseCount(o.statsRateLimit, '--stats-rate-limit', 0);
  const allowList = o.allowList ? readAllowList(o.allowList) : null;
  const passkeys = o.passkeys ? readPasskeys(o.passkeys) : null;
  const logger = o.jsonLogs ? createJsonLogger({ write: (s) => process.stderr.write(s) }) : silentLogger;
  const server = await startTrackerServer({
    bind: o.bind,
    httpPort,
    udpPort,
    intervalSeconds,
    rateLimitPerSecond,
    statsRateLimitPerSecond,
    maxTorrents,
    httpLimits,
    allowList,
    passkeys,
    logger,
    ...(maxPeers === undefined ? {} : { maxPeers }),
    onError: (err) => {
      if (!o.jsonLogs) process.stderr.write(`peerdrop tracker: ${err.message}\n`);
    },
  });
  const suffix = passkeys ? '/<passkey>' : '';
  for (const url of [server.httpAnnounceUrl, server.udpAnnounceUrl]) {
    if (url) process.stdout.write(`peerdrop tracker: announce ${url}${suffix}\n`);
  }
  if (allowList) process.stdout.write(`peerdrop tracker: allow-list of ${allowList.length} info-hashes\n`);
  const reload = (): void => {
    try {
      if (o.allowList) server.registry.setAllowList(readAllowList(o.allowList));
      if (o.passkeys) server.registry.setPasskeys(readPasskeys(o.passkeys));
      logger.event('reload', { allowList: o.allowList ?? null, passkeys: o.passkeys ?? null });
    } catch (err) {
      process.stderr.write(`peerdrop tracker: reload failed, keeping the old lists: ${errorMessage(err)}\n`);
    }
  };
  process.on('SIGHUP', reload);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.off('SIGHUP', reload);
  // Graceful, but bounded: whatever is still open after 2 s does not keep us alive.
  setTimeout(() => process.exit(0), 2000).unref();
  await server.close();
}
