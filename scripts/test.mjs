#!/usr/bin/env node
// The one test command (`npm test`): static checks, build, then every test file under node:test.
//   npm test                 everything
//   npm test -- bencode wire only test files whose path contains one of the words (static checks still run)
//   PEERDROP_SKIP_STATIC=1   skip typecheck/lint/depcruise (for quick local loops only)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function run(label, cmd, args) {
  const started = Date.now();
  process.stdout.write(`▶ ${label}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stdout.write(`✖ ${label} failed (exit ${r.status})\n0 passed, 1 failed\n`);
    process.exit(1);
  }
  process.stdout.write(`✔ ${label} (${Date.now() - started} ms)\n`);
}

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p.slice(root.length));
  }
  return out;
}

if (!process.env.PEERDROP_SKIP_STATIC) {
  run('typecheck (tsc --noEmit)', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
  run('typecheck web UI (ui/, DOM)', 'npx', ['tsc', '--noEmit', '-p', 'ui/tsconfig.json']);
  run('lint + format (biome)', 'npx', ['biome', 'check', 'src', 'test', 'fuzz', 'bench', 'scripts', 'ui']);
  run('layering (dependency-cruiser)', 'npx', ['depcruise', 'src', '--config', '.dependency-cruiser.cjs']);
}
if (process.env.PEERDROP_SKIP_STATIC) {
  spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'ignore' });
  spawnSync(process.execPath, ['scripts/build-ui.mjs', '--quiet'], { cwd: root, stdio: 'inherit' });
} else {
  run('build (tsc -> dist)', 'npx', ['tsc', '-p', 'tsconfig.build.json']);
  run('build web UI (esbuild -> dist/ui)', process.execPath, ['scripts/build-ui.mjs', '--quiet']);
}

let files = ['src', 'test', 'fuzz', 'bench'].flatMap((d) => walk(join(root, d), [])).sort();
if (filters.length) files = files.filter((f) => filters.some((w) => f.includes(w)));
if (files.length === 0) {
  process.stdout.write('no test files matched\n0 passed, 1 failed\n');
  process.exit(1);
}
process.stdout.write(`▶ ${files.length} test files\n`);
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${process.env.PEERDROP_TEST_CONCURRENCY ?? 3}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/summary-reporter.mjs',
    '--test-reporter-destination=stdout',
    ...files,
  ],
  {
    cwd: root,
    stdio: 'inherit',
    // Session state (resume records) of every test goes to a folder of this run, not ~/.local/state.
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      PEERDROP_STATE_DIR: process.env.PEERDROP_STATE_DIR ?? mkdtempSync(join(tmpdir(), 'peerdrop-state-')),
      // The CLI's DHT starts from no public router: no test ever leaves loopback.
      PEERDROP_DHT_BOOTSTRAP: process.env.PEERDROP_DHT_BOOTSTRAP ?? '',
      // ... and its LAN discovery multicasts on no interface (the namespace test sets its own).
      PEERDROP_LSD_INTERFACES: process.env.PEERDROP_LSD_INTERFACES ?? '',
    },
  },
);
process.exit(r.status ?? 1);
