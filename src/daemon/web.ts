/**
 * The web page: the single-page app built from `ui/` by `scripts/build-ui.mjs` into `dist/ui/`
 * (at `npm install` and in `npm test`'s build step) and served from there: one HTML page, one
 * script, one stylesheet, no CDN and no inline script or style, so the strict CSP holds. The
 * files are read once at start; a daemon started from a checkout whose UI was never built
 * answers `/` with a page that says how to build it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** `<root>/dist/ui`, from `src/daemon/web.ts` and from `dist/daemon/web.js` alike. */
export const UI_DIR = fileURLToPath(new URL('../../dist/ui/', import.meta.url));

const ASSETS = [
  { path: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { path: '/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { path: '/app.css', file: 'app.css', type: 'text/css; charset=utf-8' },
] as const;

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>peerdrop</title></head>
<body><h1>peerdrop</h1><p>The web page is not built. Run <code>npm run build</code> (or
<code>node scripts/build-ui.mjs</code>) in the peerdrop folder, then restart the daemon. The API
at <code>/api</code> works meanwhile.</p></body></html>
`;

function load(dir: string): Map<string, { body: Buffer; type: string }> | null {
  const out = new Map<string, { body: Buffer; type: string }>();
  try {
    for (const a of ASSETS) out.set(a.path, { body: readFileSync(`${dir}${a.file}`), type: a.type });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return out;
}

export function registerWebRoutes(app: FastifyInstance, dir: string = UI_DIR): void {
  const assets = load(dir);
  for (const a of ASSETS) {
    app.get(a.path, { schema: { hide: true } }, async (_request, reply) => {
      const asset = assets?.get(a.path);
      if (!asset) {
        if (a.path !== '/') return reply.code(404).type('text/plain; charset=utf-8').send('not built\n');
        return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
      }
      return reply.type(asset.type).send(asset.body);
    });
  }
}
