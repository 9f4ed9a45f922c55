import type { Command } from 'commander';
import { parseCode } from '../../handoff/code.js';
import type { DhtOptions } from '../../handoff/meet.js';
import { startSend } from '../../handoff/sender.js';
import { errorMessage, PeerdropError } from '../../util/errors.js';
import { sanitizeForTerminal } from '../../util/terminal-text.js';
import { addDhtOptions, type DhtCliOptions, dhtSessionOptions } from '../dht-options.js';
import { parsePortOption } from '../options.js';
import { CliError, formatBytes, printJsonLine, usageError } from '../output.js';

interface SendCliOptions extends DhtCliOptions {
  code?: string;
  json?: boolean;
  multi?: boolean;
  host?: string;
  port?: string;
  lan?: boolean;
  lanInterface?: string[];
}

/**
 * `peerdrop send <path>...`: print a short code and hand the files or folders to whoever runs
 * `peerdrop receive <code>` (LAN multicast or the DHT find us; a PAKE on the code keys an
 * encrypted channel; the BitTorrent engine moves and verifies the data). Exits once the receiver
 * has everything verified (with --multi: serves until Ctrl-C).
 */
export function register(program: Command): void {
  const command = program
    .command('send')
    .description('send a file or folder to another computer with a short code (end-to-end encrypted)')
    .argument('<path...>', 'the files or folders to send (several: they arrive together in one folder)')
    .option('--code <code>', 'use this code (a number and two words of the list, like 7-guitar-orbit)')
    .option(
      '--multi',
      'let several receivers take the offer (they also swarm among themselves); until Ctrl-C',
    )
    .option('--host <addr>', 'address to accept receivers on (default: all IPv4)')
    .option('-p, --port <port>', 'TCP port to accept receivers on (default: any free port)')
    .option('--no-lan', 'do not announce on the local network (multicast)')
    .option('--lan-interface <name>', 'announce on this interface only (repeatable)', collect, []);
  addDhtOptions(command)
    .option('--json', 'one JSON object per line on stdout; the first is {"code": …}')
    .action(async (paths: string[], opts: SendCliOptions) => {
      process.exitCode = await runSend(paths, opts);
    });
}

/** `--dht-bootstrap` / `--no-dht` as handoff DHT options (none when there is no node to start from). */
export async function handoffDhtOptions(opts: DhtCliOptions): Promise<DhtOptions | false> {
  const { dht } = await dhtSessionOptions(opts);
  if (dht === false || !dht.bootstrap || dht.bootstrap.length === 0) return false;
  return { bootstrap: dht.bootstrap, isLoopbackNetwork: dht.isLoopbackNetwork ?? false };
}

/** Library errors as one-line CLI failures (a wrong code is exit 1 with the plain message). */
export function asCliError(err: unknown): unknown {
  if (err instanceof CliError) return err;
  if (err instanceof PeerdropError) return new CliError(err.message, 1, err.code);
  return err;
}

async function runSend(paths: string[], opts: SendCliOptions): Promise<number> {
  if (paths.length === 0) throw usageError('give the file(s) or folder(s) to send');
  const code = opts.code === undefined ? undefined : parseCodeOption(opts.code);
  const port = opts.port === undefined ? 0 : parsePortOption(opts.port, '--port', { allowZero: true });
  const dht = await handoffDhtOptions(opts);
  const isJson = opts.json ?? false;
  const sender = await startSend({
    ...(paths.length === 1 ? { path: paths[0]! } : { paths }),
    ...(code ? { code } : {}),
    ...(opts.host ? { host: opts.host } : {}),
    port,
    isMulti: opts.multi ?? false,
    lan: opts.lan === false ? false : opts.lanInterface?.length ? { interfaces: opts.lanInterface } : {},
    dht,
  }).catch((err) => {
    throw asCliError(err);
  });
  const { offer } = sender;
  const name = sanitizeForTerminal(offer.name, { maxChars: 200 });
  if (isJson) {
    printJsonLine({ code: sender.code.text });
    printJsonLine({
      event: 'ready',
      name: offer.name,
      files: offer.fileCount,
      bytes: offer.totalBytes,
      infoHash: offer.infoHash,
      port: sender.port,
      lan: opts.lan !== false,
      dht: dht !== false,
    });
  } else {
    process.stdout.write(
      `sending ${name} (${offer.fileCount} file${offer.fileCount === 1 ? '' : 's'}, ${formatBytes(offer.totalBytes)})\n`,
    );
    process.stdout.write(`code: ${sender.code.text}\n`);
    process.stdout.write(`on the other computer run: peerdrop receive ${sender.code.text}\n`);
  }
  sender.on('receiver', (address) =>
    isJson
      ? printJsonLine({ event: 'receiver', address })
      : process.stderr.write(`receiver connected (${address})\n`),
  );
  sender.on('failedAttempt', (address) =>
    isJson
      ? printJsonLine({ event: 'failed-attempt', address })
      : process.stderr.write(`someone tried a code that did not match (${address})\n`),
  );
  let lastAt = 0;
  sender.on('progress', (s) => {
    if (!isJson || Date.now() - lastAt < 1000) return;
    lastAt = Date.now();
    printJsonLine({
      event: 'progress',
      uploadedBytes: s.uploadedBytes,
      uploadRate: s.uploadRate,
      peers: s.peers,
    });
  });
  sender.on('complete', (address) =>
    isJson
      ? printJsonLine({ event: 'complete', address })
      : process.stdout.write(`done: the receiver (${address}) has every file, verified\n`),
  );
  const stop = () => void sender.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await sender.done;
    return 0;
  } catch (err) {
    if (err instanceof PeerdropError && err.code === 'HANDOFF_ABORTED') return 130;
    throw asCliError(err);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await sender.close().catch((err: unknown) => process.stderr.write(`peerdrop: ${errorMessage(err)}\n`));
  }
}

function parseCodeOption(text: string) {
  try {
    return parseCode(text);
  } catch (err) {
    throw usageError(`--code: ${errorMessage(err)}`);
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
