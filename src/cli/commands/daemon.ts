import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_BIND, DEFAULT_PORT, daemonPaths, defaultDataDir } from '../../daemon/config.js';
import { runDaemon } from '../../daemon/run.js';
import { addDhtOptions, type DhtCliOptions, discoverySessionOptions } from '../dht-options.js';
import { printJsonLine, usageError } from '../output.js';
import { ENCRYPTION_OPTION, parseEncryption } from './get.js';

interface DaemonCliOptions extends DhtCliOptions {
  encryption?: string;
  port: string;
  bind: string;
  dataDir?: string;
  downloadDir?: string;
  allowHost: string[];
  peerPort?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const command = program
    .command('daemon', { isDefault: true })
    .description('run the peerdrop daemon: many torrents, a web page and an HTTP API (Transmission RPC too)')
    .option('--port <port>', 'HTTP port of the web page and API', String(DEFAULT_PORT))
    .option('--bind <addr>', 'address the web page and API listen on (loopback by default)', DEFAULT_BIND)
    .option('--data-dir <dir>', 'state folder (default $XDG_DATA_HOME/peerdrop or ~/.local/share/peerdrop)')
    .option('--download-dir <dir>', 'where torrents are downloaded (default ~/Downloads/peerdrop)')
    .option('--peer-port <port>', 'TCP/UDP port for peers (default: the saved setting, else any free one)')
    .option(
      '--allow-host <name>',
      'also answer to this Host name, e.g. behind a reverse proxy (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option(...ENCRYPTION_OPTION)
    .option('--json', 'print the addresses as one JSON line');
  // A daemon finds peers as `get` does: DHT (table kept in <data-dir>/session), PEX, LSD.
  addDhtOptions(command).action(async (opts: DaemonCliOptions) => {
    const port = parsePort(opts.port, '--port');
    const encryption = parseEncryption(opts.encryption);
    const stateDir = daemonPaths(opts.dataDir ?? defaultDataDir()).stateDir;
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const discovery = await discoverySessionOptions(opts, stateDir);
    const running = await runDaemon({
      encryption,
      discovery,
      port,
      bind: opts.bind,
      ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
      ...(opts.downloadDir ? { downloadDir: opts.downloadDir } : {}),
      ...(opts.peerPort === undefined ? {} : { peerPort: parsePort(opts.peerPort, '--peer-port') }),
      extraHosts: opts.allowHost,
    });
    const login = running.http.loginUrl();
    const info = {
      event: 'listening',
      url: running.http.url,
      login,
      api: `${running.http.url}/api`,
      transmissionRpc: `${running.http.url}/transmission/rpc`,
      dataDir: running.dataDir,
      downloadDir: running.daemon.downloadRoot,
      peerPort: running.daemon.session.port,
      torrents: running.daemon.store.listTorrents().length,
      restoreMs: Math.round(running.restoreMs),
      pid: process.pid,
    };
    if (opts.json) printJsonLine(info);
    else
      process.stdout.write(
        `peerdrop daemon on ${info.url} (${info.torrents} torrents, peers on port ${info.peerPort})\n` +
          `  open this one-time login link: ${login}\n` +
          `  API token in ${running.dataDir}/token; downloads go to ${info.downloadDir}\n`,
      );
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        running.stop().then(resolve, resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    if (opts.json) printJsonLine({ event: 'stopped' });
  });
}

function parsePort(text: string, flag: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw usageError(`${flag}: ${text} is not a port number`);
  return port;
}
