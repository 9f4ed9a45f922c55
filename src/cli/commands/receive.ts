import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { parseCode } from '../../handoff/code.js';
import type { Offer } from '../../handoff/control.js';
import { HandoffReceiver, receive } from '../../handoff/receiver.js';
import { errorMessage } from '../../util/errors.js';
import { parseHostPort } from '../../util/ip.js';
import { sanitizeForTerminal } from '../../util/terminal-text.js';
import { addDhtOptions, type DhtCliOptions } from '../dht-options.js';
import { CliError, formatBytes, printJsonLine, usageError } from '../output.js';
import { statusLine } from '../transfer.js';
import { asCliError, handoffDhtOptions } from './send.js';

interface ReceiveCliOptions extends DhtCliOptions {
  dir?: string;
  yes?: boolean;
  json?: boolean;
  multi?: boolean;
  host?: string;
  lan?: boolean;
  lanInterface?: string[];
  peer?: string;
  timeout?: string;
}

/**
 * `peerdrop receive <code>`: find the sender, check the code by PAKE, show what is offered and
 * ask before writing anything (unless --yes), then download and verify every piece.
 */
export function register(program: Command): void {
  const command = program
    .command('receive')
    .description('receive what `peerdrop send` offers, given its code (end-to-end encrypted)')
    .argument('<code>', 'the code the sender printed, like 7-guitar-orbit')
    .option('-d, --dir <folder>', 'where to put the files (default: the current folder)')
    .option('-y, --yes', 'accept the offer without asking')
    .option('--multi', 'the sender uses --multi: also swarm with the other receivers')
    .option('--host <addr>', 'address to accept other receivers on (with --multi)')
    .option('--no-lan', 'do not look for the sender on the local network (multicast)')
    .option('--lan-interface <name>', 'look on this interface only (repeatable)', collect, [])
    .option('--peer <host:port>', 'the sender is here (skip looking for it)')
    .option('--timeout <seconds>', 'give up finding the sender after this long (default 60)');
  addDhtOptions(command)
    .option('--json', 'one JSON object per line on stdout')
    .action(async (code: string, opts: ReceiveCliOptions) => {
      process.exitCode = await runReceive(code, opts);
    });
}

function describeOffer(offer: Offer): string {
  const name = sanitizeForTerminal(offer.name, { maxChars: 200 });
  const lines = [
    `offered: ${name} (${offer.fileCount} file${offer.fileCount === 1 ? '' : 's'}, ${formatBytes(offer.totalBytes)})`,
  ];
  if (!offer.isSingleFile) {
    for (const f of offer.files.slice(0, 20))
      lines.push(
        `  ${sanitizeForTerminal(f.path.join('/'), { maxChars: 200 })}  ${formatBytes(f.lengthBytes)}`,
      );
    if (offer.fileCount > 20) lines.push(`  … and ${offer.fileCount - 20} more`);
  }
  return `${lines.join('\n')}\n`;
}

async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

async function runReceive(codeText: string, opts: ReceiveCliOptions): Promise<number> {
  let code: ReturnType<typeof parseCode>;
  try {
    code = parseCode(codeText);
  } catch (err) {
    throw usageError(errorMessage(err));
  }
  const isJson = opts.json ?? false;
  const dir = resolve(opts.dir ?? '.');
  const peer = opts.peer === undefined ? undefined : parseHostPort(opts.peer);
  if (opts.peer !== undefined && !peer)
    throw usageError(`--peer: ${JSON.stringify(opts.peer)} is not host:port`);
  const timeoutSeconds = opts.timeout === undefined ? 60 : Number(opts.timeout);
  if (!(timeoutSeconds > 0 && timeoutSeconds <= 86_400))
    throw usageError('--timeout must be 1..86400 seconds');
  // Ask before anything can be written; without a terminal to ask on, only --yes accepts.
  if (!opts.yes && !process.stdin.isTTY)
    throw new CliError(
      'no terminal to ask whether to accept the offer: run with --yes to accept without asking',
      2,
      'CLI_USAGE',
    );
  const dht = await handoffDhtOptions(opts);
  const receiver = new HandoffReceiver();
  const startedAt = Date.now();
  receiver.on('firstPiece', () => {
    if (isJson) printJsonLine({ event: 'first-piece', afterMs: Date.now() - startedAt });
  });
  receiver.on('complete', () => {
    if (isJson) printJsonLine({ event: 'complete', afterMs: Date.now() - startedAt });
    else if (opts.multi)
      process.stderr.write(
        '\nall files verified; serving the other receivers a while longer (Ctrl-C to leave)\n',
      );
  });
  let lastAt = 0;
  receiver.on('progress', (s) => {
    if (Date.now() - lastAt < 1000) return;
    lastAt = Date.now();
    if (isJson)
      printJsonLine({
        event: 'progress',
        progress: s.progress,
        verifiedBytes: s.verifiedBytes,
        downloadRate: s.downloadRate,
      });
    else if (process.stderr.isTTY) process.stderr.write(`\r${statusLine(s, process.stderr.columns || 80)}`);
  });
  const stop = () => void receiver.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await receive(
      {
        code,
        dir,
        confirm: async (offer) => {
          if (isJson)
            printJsonLine({
              event: 'offer',
              afterMs: Date.now() - startedAt,
              ...offer,
              files: offer.files.map((f) => ({ path: f.path.join('/'), bytes: f.lengthBytes })),
            });
          else process.stderr.write(describeOffer(offer));
          if (opts.yes) return true;
          return ask(`receive into ${sanitizeForTerminal(dir, { maxChars: 300 })}? [y/N] `);
        },
        isMulti: opts.multi ?? false,
        ...(opts.host ? { host: opts.host } : {}),
        lan: opts.lan === false ? false : opts.lanInterface?.length ? { interfaces: opts.lanInterface } : {},
        dht,
        ...(peer ? { senderAddress: peer } : {}),
        findTimeoutMs: timeoutSeconds * 1000,
      },
      receiver,
    );
    const where = resolve(result.dir, result.offer.name);
    if (isJson)
      printJsonLine({
        event: 'done',
        path: where,
        files: result.offer.fileCount,
        bytes: result.offer.totalBytes,
        afterMs: Date.now() - startedAt,
      });
    else {
      if (process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(
        `received ${sanitizeForTerminal(result.offer.name, { maxChars: 200 })} (${result.offer.fileCount} file${result.offer.fileCount === 1 ? '' : 's'}, ${formatBytes(result.offer.totalBytes)}, verified) into ${sanitizeForTerminal(where, { maxChars: 300 })}\n`,
      );
    }
    return 0;
  } catch (err) {
    throw asCliError(err);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await receiver.close().catch(() => {});
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
