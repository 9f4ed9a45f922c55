#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { errorMessage, PeerdropError } from '../util/errors.js';
import { registerCommands } from './commands/index.js';
import { CliError } from './output.js';

const VERSION = '0.1.0';

/** Flags that mean "tell me about peerdrop", not "start the daemon". */
const INFO_FLAGS = new Set(['-h', '--help', '-V', '--version']);

export async function main(rawArgv: readonly string[]): Promise<number> {
  // `npx peerdrop` (no command, maybe daemon flags such as --port) starts the daemon.
  const first = rawArgv[0];
  const isDaemon = first === undefined || (first.startsWith('-') && !rawArgv.some((a) => INFO_FLAGS.has(a)));
  const argv = isDaemon ? ['daemon', ...rawArgv] : rawArgv;
  const program = new Command()
    .name('peerdrop')
    .description('Peer-to-peer file sharing over the BitTorrent protocol.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    await registerCommands(program, argv);
    await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its message; help and version are successes.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`peerdrop: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof PeerdropError) {
      process.stderr.write(`peerdrop: ${err.message} (${err.code})\n`);
      return 1;
    }
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    process.stderr.write(`peerdrop: ${errorMessage(err)}${code ? ` (${code})` : ''}\n`);
    if (process.env.PEERDROP_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`peerdrop: internal error: ${errorMessage(err)}\n`);
    process.exitCode = 70;
  },
);
