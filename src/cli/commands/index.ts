import type { Command } from 'commander';

/** A command module: `register(program)` adds its subcommand with all its options. */
export interface CommandModule {
  register(program: Command): void;
}

export interface CommandEntry {
  readonly name: string;
  /** One line for `peerdrop --help`; the module's own description is shown by `peerdrop <name> --help`. */
  readonly summary: string;
  /** Loaded only when the command runs, so start-up pays for one command, not all of them. */
  readonly load: () => Promise<CommandModule>;
}

/** Every CLI command, one file each under `src/cli/commands/`; add new ones here. */
export const commands: readonly CommandEntry[] = [
  {
    name: 'daemon',
    summary: 'run the daemon: web page, HTTP API, Transmission RPC (the default with no command)',
    load: () => import('./daemon.js'),
  },
  { name: 'add', summary: 'add a magnet link or .torrent to the daemon', load: () => import('./add.js') },
  { name: 'list', summary: "list the daemon's torrents", load: () => import('./list.js') },
  { name: 'pause', summary: 'pause a torrent of the daemon', load: () => import('./pause.js') },
  { name: 'resume', summary: 'resume a torrent of the daemon', load: () => import('./resume.js') },
  { name: 'remove', summary: 'remove a torrent from the daemon', load: () => import('./remove.js') },
  {
    name: 'create',
    summary: 'create a .torrent file from a file or folder',
    load: () => import('./create.js'),
  },
  {
    name: 'info',
    summary: 'show what a .torrent file or magnet link describes',
    load: () => import('./info.js'),
  },
  {
    name: 'get',
    summary: 'download a torrent or magnet link (exits 0 when complete)',
    load: () => import('./get.js'),
  },
  { name: 'seed', summary: 'verify existing data and seed it until Ctrl-C', load: () => import('./seed.js') },
  {
    name: 'share',
    summary: 'make a torrent of a file or folder, seed it, print its magnet link',
    load: () => import('./share.js'),
  },
  {
    name: 'tracker',
    summary: 'run a BitTorrent tracker (HTTP and UDP, /stats, /metrics)',
    load: () => import('./tracker.js'),
  },
  {
    name: 'index',
    summary: 'run a searchable index of torrents (JSON API and a search page)',
    load: () => import('./index-command.js'),
  },
  {
    name: 'publish',
    summary: 'publish a torrent on an index, signed with your publisher key',
    load: () => import('./publish.js'),
  },
  {
    name: 'unpublish',
    summary: 'remove an entry you published from an index',
    load: () => import('./unpublish.js'),
  },
  {
    name: 'dht',
    summary: 'run a Mainline DHT node; find peers, get and put BEP 44 items',
    load: () => import('./dht.js'),
  },
  {
    name: 'send',
    summary: 'send a file or folder with a short code (end-to-end encrypted)',
    load: () => import('./send.js'),
  },
  {
    name: 'receive',
    summary: 'receive what `peerdrop send` offers, given its code',
    load: () => import('./receive.js'),
  },
  {
    name: 'search',
    summary: 'search an index; prints a table or JSON with magnet links',
    load: () => import('./search.js'),
  },
];

/**
 * Register what `argv` needs: the named command in full (including for `help <name>`), or,
 * for the top-level help, every command as a one-line stub.
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  const entry = commands.find((c) => c.name === name);
  if (entry) {
    (await entry.load()).register(program);
    return;
  }
  for (const c of commands) program.command(c.name).description(c.summary);
}
