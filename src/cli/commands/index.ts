import type { Command } from 'commander';
import { register as create } from './create.js';
import { register as get } from './get.js';
import { register as indexServer } from './index-command.js';
import { register as info } from './info.js';
import { register as publish } from './publish.js';
import { register as search } from './search.js';
import { register as seed } from './seed.js';
import { register as share } from './share.js';
import { register as tracker } from './tracker.js';
import { register as unpublish } from './unpublish.js';

/**
 * Every CLI command, one file each under `src/cli/commands/`. A command module exports a
 * `register(program)` function that adds its subcommand; add it to this list.
 */
export const commands: ReadonlyArray<(program: Command) => void> = [
  create,
  info,
  get,
  seed,
  share,
  indexServer,
  publish,
  unpublish,
  search,
  tracker,
];
