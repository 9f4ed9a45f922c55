// `peerdrop share` looks for private files (keys, credentials) before it shares a folder, and
// refuses unless --include-sensitive (issue 12, safe sharing).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_PATH, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

test('share refuses a folder with an SSH key and a .env file, naming them, exit 2', async () => {
  const tmp = tempDir();
  try {
    const folder = join(tmp.path, 'holiday');
    mkdirSync(join(folder, '.ssh'), { recursive: true });
    writeFileSync(join(folder, 'photo.jpg'), Buffer.alloc(40_000, 7));
    writeFileSync(join(folder, '.ssh', 'id_ed25519'), '-----BEGIN OPENSSH PRIVATE KEY-----\n');
    writeFileSync(join(folder, '.env'), 'API_KEY=secret\n');
    const r = await runCli(['share', folder, '--no-dht', '--no-lsd', '--host', '127.0.0.1'], {
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /refusing to share private files/);
    assert.match(r.stderr, /\.ssh/);
    assert.match(r.stderr, /\.env/);
    assert.match(r.stderr, /--include-sensitive/);
    assert.equal(r.stdout, '', 'no magnet link printed for a refused share');
  } finally {
    tmp.cleanup();
  }
});

test('--include-sensitive shares the same folder: the magnet link reaches stdout', async () => {
  const tmp = tempDir();
  const folder = join(tmp.path, 'holiday');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'photo.jpg'), Buffer.alloc(40_000, 7));
  writeFileSync(join(folder, '.env'), 'API_KEY=secret\n');
  const child = spawn(
    process.execPath,
    [CLI_PATH, 'share', folder, '--include-sensitive', '--no-dht', '--no-lsd', '--host', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const magnet = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('no magnet link within 20 s')), 20_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const line = out.split('\n').find((l) => l.startsWith('magnet:'));
        if (line) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      child.on('exit', (code) => reject(new Error(`share exited ${code} before printing a magnet link`)));
    });
    assert.match(magnet, /^magnet:\?xt=urn:btih:[0-9a-f]{40}/);
  } finally {
    child.kill('SIGINT');
    await once(child, 'exit');
    tmp.cleanup();
  }
});
