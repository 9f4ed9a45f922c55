import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import {
  GuardedScrapeTransport,
  HealthUpdater,
  TrackerScrapeHealthSource,
} from '../../index-server/health.js';
import { startIndexServer } from '../../index-server/http-api.js';
import { peerdropHome } from '../../index-server/identity.js';
import type { IndexStore } from '../../index-server/store.js';
import { UdpTrackerTransport } from '../../tracker/client/udp-transport.js';
import { systemClock } from '../../util/clock.js';
import { parsePortOption } from '../options.js';
import { usageError } from '../output.js';

/**
 * `peerdrop index [--port 8001] [--bind 127.0.0.1] [--db FILE | --postgres URL] [--admin-token T]`:
 * run the searchable index (JSON API, search page at `/`). Prints its URL, runs until SIGINT
 * or SIGTERM. The admin token may also come from `PEERDROP_INDEX_ADMIN_TOKEN` (keeps it out of
 * `ps`). Health is refreshed by scraping the entries' trackers unless `--scrape-interval 0`.
 * (The file is not `index.ts`: that name is the command registry.)
 */
interface IndexOptions {
  port: string;
  bind: string;
  db?: string;
  postgres?: string;
  postgresRead?: string;
  healthPrivateTrackers?: boolean;
  adminToken?: string;
  scrapeInterval: string;
  maxConnections: string;
  maxConnectionsPerIp: string;
}

function parsePort(text: string): number {
  return parsePortOption(text, '--port', { allowZero: true });
}

function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d{1,9}$/.test(text) || n < 1) throw usageError(`${flag} must be an integer >= 1, got ${text}`);
  return n;
}

async function openStore(o: IndexOptions): Promise<IndexStore> {
  if (o.db && o.postgres) throw usageError('use either --db or --postgres, not both');
  if (o.postgresRead && !o.postgres) throw usageError('--postgres-read needs --postgres (the primary)');
  // Each store's driver is loaded only when chosen (pg or the native SQLite binding).
  if (o.postgres) {
    const { PostgresIndexStore } = await import('../../index-server/postgres-store.js');
    return PostgresIndexStore.open({
      connectionString: o.postgres,
      ...(o.postgresRead ? { readConnectionString: o.postgresRead } : {}),
    });
  }
  const { SqliteIndexStore } = await import('../../index-server/sqlite-store.js');
  const file = o.db ?? join(peerdropHome(), 'index.db');
  mkdirSync(dirname(file), { recursive: true });
  return new SqliteIndexStore({ file });
}

export function register(program: Command): void {
  program
    .command('index')
    .description('run a searchable index of torrents (JSON API and a search page)')
    .option('--port <port>', 'TCP port (0 picks a free one)', '8001')
    .option('--bind <address>', 'address to listen on', '127.0.0.1')
    .option('--db <file>', 'SQLite database file (default $PEERDROP_HOME/index.db)')
    .option('--postgres <url>', 'PostgreSQL connection URL instead of SQLite')
    .option('--postgres-read <url>', 'a read replica for searches (writes stay on --postgres)')
    .option(
      '--health-private-trackers',
      'scrape trackers at private or loopback addresses for swarm health (a company LAN index)',
    )
    .option('--admin-token <token>', 'bearer token for /api/admin (or PEERDROP_INDEX_ADMIN_TOKEN)')
    .option('--scrape-interval <seconds>', 'how often to scrape trackers for health; 0 disables', '60')
    .option('--max-connections <n>', 'HTTP connections at once (longest-idle closed to make room)', '2000')
    .option('--max-connections-per-ip <n>', 'HTTP connections at once per address (IPv6: per /64)', '32')
    .action(async (o: IndexOptions) => {
      const port = parsePort(o.port);
      const scrapeSeconds = Number(o.scrapeInterval);
      if (!Number.isFinite(scrapeSeconds) || scrapeSeconds < 0)
        throw usageError('--scrape-interval must be >= 0');
      const limits = {
        maxConnections: parseCount(o.maxConnections, '--max-connections'),
        maxConnectionsPerAddress: parseCount(o.maxConnectionsPerIp, '--max-connections-per-ip'),
      };
      const store = await openStore(o);
      const adminToken = o.adminToken ?? process.env.PEERDROP_INDEX_ADMIN_TOKEN;
      const onError = (err: unknown): void => {
        process.stderr.write(`peerdrop index: ${(err as Error)?.stack ?? String(err)}\n`);
      };
      const allowPrivate = o.healthPrivateTrackers ?? false;
      const server = await startIndexServer({
        store,
        port,
        bind: o.bind,
        adminToken,
        onError,
        limits,
        healthPrivateTrackers: allowPrivate,
      });
      // Publishers choose the tracker URLs: every scrape goes through the outbound guard.
      const transport = new UdpTrackerTransport();
      const updater = new HealthUpdater({
        store,
        source: new TrackerScrapeHealthSource(new GuardedScrapeTransport({ udp: transport, allowPrivate }), {
          clock: systemClock,
          allowPrivateTrackers: allowPrivate,
        }),
        now: Date.now,
      });
      if (scrapeSeconds > 0) updater.start(scrapeSeconds * 1000, onError);
      process.stdout.write(`peerdrop index listening on ${server.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await updater.stop();
      await transport.close();
      await server.close();
      await store.close();
    });
}
