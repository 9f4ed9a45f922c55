#!/usr/bin/env node
// Builds the web UI (ui/) into dist/ui/: app.js (one esbuild bundle of preact + htm + qrcode and
// our code), app.css and index.html. Served by the daemon (src/daemon/web.ts) from there, so the
// page needs no CDN and no inline script or style (the CSP allows only 'self').
//   node scripts/build-ui.mjs            minified build
//   node scripts/build-ui.mjs --dev      with inline source maps
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'dist', 'ui');
const isDev = process.argv.includes('--dev');
const started = Date.now();

mkdirSync(out, { recursive: true });
await build({
  // main.ts imports app.css, so esbuild writes app.css beside app.js.
  entryPoints: { app: join(root, 'ui', 'main.ts') },
  outdir: out,
  entryNames: '[name]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: !isDev,
  sourcemap: isDev ? 'inline' : false,
  legalComments: 'none',
  logLevel: 'warning',
  // qrcode's browser build reaches for these Node names; the page never needs them.
  define: { 'process.env.NODE_ENV': '"production"' },
});
copyFileSync(join(root, 'ui', 'index.html'), join(out, 'index.html'));
if (!process.argv.includes('--quiet')) process.stdout.write(`built dist/ui in ${Date.now() - started} ms\n`);
