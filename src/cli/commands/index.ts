import type { Command } from 'commander';

/**
 * Every CLI command, one file each under `src/cli/commands/`. A command module exports a
 * `register(program)` function that adds its subcommand; add it to this list.
 */
export const commands: ReadonlyArray<(program: Command) => void> = [];
