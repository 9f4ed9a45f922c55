/**
 * `--encryption` on the CLI: `get --encryption require` downloads from an in-process seeder
 * that refuses plaintext (so the CLI's connection can only have been MSE), a bad value is a
 * usage error (exit 2), and `get --encryption off` cannot reach a `require` seeder.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startEncryptedPeerdrop } from '../helpers/clients/encrypted.js';
import { diffTrees, writeTree } from '../helpers/content.js';
import { tempDir } from '../helpers/tmp.js';
import { buildTorrent } from '../helpers/torrent-fixtures.js';

const tmp = tempDir('peerdrop-mse-cli-');
const seedDir = join(tmp.path, 'seed');
let torrentPath: string;
let seeder: Awaited<ReturnType<typeof startEncryptedPeerdrop>>;

describe('peerdrop get --encryption', () => {
  before(async () => {
    mkdirSync(seedDir, { recursive: true });
    writeTree(seedDir, [{ path: 'secret.bin', size: 1024 * 1024 + 3 }], 9);
    const torrent = buildTorrent(
      [{ path: ['secret.bin'], data: readFileSync(join(seedDir, 'secret.bin')) }],
      {
        name: 'secret.bin',
        pieceLength: 32 * 1024,
        single: true,
      },
    );
    torrentPath = join(tmp.path, 'secret.torrent');
    writeFileSync(torrentPath, torrent);
    seeder = await startEncryptedPeerdrop({ policy: 'require', torrent, dir: seedDir });
  });
  after(async () => {
    await seeder.stop();
    tmp.cleanup();
  });

  const get = (dir: string, policy: string, timeoutMs = 30_000) =>
    runCli(
      [
        'get',
        torrentPath,
        '--dir',
        dir,
        '--host',
        '127.0.0.1',
        '--peer',
        `127.0.0.1:${seeder.session.port}`,
        '--encryption',
        policy,
      ],
      { timeoutMs },
    );

  test('require: the download completes over MSE from a seeder that refuses plaintext', async () => {
    const dir = join(tmp.path, 'require');
    mkdirSync(dir, { recursive: true });
    const r = await get(dir, 'require');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(diffTrees(seedDir, dir), []);
    assert.ok(seeder.transport.stats.incomingEncrypted >= 1);
  });

  test('a value other than prefer, require or off is a usage error', async () => {
    const r = await runCli(['get', torrentPath, '--encryption', 'maybe']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--encryption must be prefer, require or off/);
  });

  test('off: a plaintext-only client is refused by a require seeder', async () => {
    const before = seeder.transport.stats.failures.get('MSE_PLAINTEXT_REFUSED') ?? 0;
    const dir = join(tmp.path, 'off');
    mkdirSync(dir, { recursive: true });
    // The CLI keeps retrying; it is killed after a few seconds: what matters is the refusal.
    await get(dir, 'off', 4000);
    assert.ok((seeder.transport.stats.failures.get('MSE_PLAINTEXT_REFUSED') ?? 0) > before);
  });
});
