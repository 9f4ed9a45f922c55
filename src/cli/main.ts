#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { errorMessage } from '../util/errors.js';
import { sanitizeForTerminal } from '../util/terminal-text.js';
import { commands, registerCommands } from './commands/index.js';
import { describeError } from './errors.js';
import { CliError, handleClosedStdout } from './output.js';

const VERSION = '0.1.0';

/** Flags that mean "tell me about peerdrop", not "start the daemon". */
const INFO_FLAGS = new Set(['-h', '--help', '-V', '--version']);

export async function main(rawArgv: readonly string[]): Promise<number> {
  // `npx peerdrop` (no command, maybe daemon flags such as --port) starts the daemon.
  const first = rawArgv[0];
  const isDaemon = first === undefined || (first.startsWith('-') && !rawArgv.some((a) => INFO_FLAGS.has(a)));
  const argv = isDaemon ? ['daemon', ...rawArgv] : rawArgv;
  handleClosedStdout();
  // `peerdrop help nope`: commander would print the whole help as an error; say it in one line.
  if (argv[0] === 'help' && argv[1] !== undefined && !argv[1].startsWith('-')) {
    if (!commands.some((c) => c.name === argv[1])) {
      process.stderr.write(
        `peerdrop: unknown command '${sanitizeForTerminal(argv[1], { maxChars: 40 })}' (see peerdrop --help)\n`,
      );
      return 2;
    }
  }
  const program = new Command()
    .name('peerdrop')
    .description('Peer-to-peer file sharing over the BitTorrent protocol.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // Commander's own errors (`error: unknown option …`, a suggestion on the next line) in
      // peerdrop's one format: `peerdrop: <what> (<where to look>)`, one line, exit 2.
      outputError: (s, write) => write(`${commanderErrorLine(s, argv)}\n`),
    });
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
      process.stderr.write(`peerdrop: ${sanitizeForTerminal(err.message, { maxChars: 2000 })}\n`);
      return err.exitCode;
    }
    process.stderr.write(`peerdrop: ${describeError(err).message}\n`);
    if (process.env.PEERDROP_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

/** `error: unknown option '--x'\n(Did you mean --y?)\n` → `peerdrop: unknown option '--x' (Did you mean --y?; see peerdrop get --help)`. */
function commanderErrorLine(text: string, argv: readonly string[]): string {
  const parts = text
    .replace(/^error:\s*/i, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const [first = 'bad arguments', ...rest] = parts;
  const command = argv.find((a) => !a.startsWith('-'));
  const known = command !== undefined && !/^unknown command/.test(first);
  const help = `see peerdrop ${known ? `${command} ` : ''}--help`;
  const extra = rest.map((r) => r.replace(/^\((.*)\)$/, '$1')).join('; ');
  return `peerdrop: ${sanitizeForTerminal(first, { maxChars: 300 })} (${extra ? `${sanitizeForTerminal(extra, { maxChars: 200 })}; ` : ''}${help})`;
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
