import type { Command } from 'commander';
import { addDhtOptions } from '../dht-options.js';
import { ENCRYPTION_OPTION, runTransfer, TRACKER_OPTION } from './get.js';

export function register(program: Command): void {
  const command = program
    .command('seed')
    .description(
      'seed existing data: verifies it against the torrent, then serves it until Ctrl-C (never downloads; missing or damaged files are named)',
    )
    .argument('<torrent-file>', 'the .torrent file describing the data')
    .requiredOption('-d, --dir <dir>', 'folder that holds the data (as `peerdrop get --dir` would write it)')
    .option('-p, --port <port>', 'TCP port to accept peers on (default: any free port)')
    .option('--host <addr>', 'address to listen on (default: all, IPv4 and IPv6)')
    .option('--upload-limit <rate>', 'max upload rate, e.g. 512K (bytes/s)')
    .option(
      '--peer <host:port>',
      'also connect to this peer (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option(...TRACKER_OPTION)
    .option('--download-missing', 'download missing or damaged pieces from peers instead of only naming them')
    .option(...ENCRYPTION_OPTION);
  addDhtOptions(command)
    .option('--json', 'one JSON event per line on stdout')
    .action(
      async (source: string, opts: Parameters<typeof runTransfer>[1] & { downloadMissing?: boolean }) => {
        const { downloadMissing, ...rest } = opts;
        // Seeding serves what is there; fetching the rest happens only when asked.
        process.exitCode = await runTransfer(source, rest, {
          keepSeeding: true,
          isSeedOnly: downloadMissing !== true,
          ...(downloadMissing
            ? {}
            : {
                warningHints: { SEED_DATA_INCOMPLETE: 'add --download-missing to fetch the rest from peers' },
              }),
        });
      },
    );
}
