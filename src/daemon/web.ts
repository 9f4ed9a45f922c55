/**
 * The placeholder web page: one HTML page, one script and one stylesheet served from here (no
 * CDN, no inline script or style, so the strict CSP holds). It lists torrents from the API,
 * follows /api/events, and adds magnet links. The real UI replaces it.
 */
import type { FastifyInstance } from 'fastify';

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>peerdrop</title>
<link rel="stylesheet" href="/app.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<header><h1>peerdrop</h1><span id="summary"></span></header>
<main>
<form id="add"><input id="magnet" name="magnet" placeholder="magnet:?xt=urn:btih:…" required aria-label="magnet link"><button>Add</button></form>
<p id="message" role="status"></p>
<table id="torrents"><thead><tr><th>Name</th><th>State</th><th>Progress</th><th>Down</th><th>Up</th><th>Peers</th><th></th></tr></thead><tbody></tbody></table>
</main>
</body>
</html>
`;

const CSS = `:root{color-scheme:light dark;font-family:system-ui,sans-serif}
body{margin:0 auto;max-width:70rem;padding:1rem}
header{display:flex;gap:1rem;align-items:baseline}
form{display:flex;gap:.5rem}input{flex:1;padding:.4rem}
table{width:100%;border-collapse:collapse;margin-top:1rem}
th,td{text-align:left;padding:.3rem;border-bottom:1px solid #8884}
progress{width:8rem}
`;

const JS = `const rows = new Map();
const tbody = document.querySelector('#torrents tbody');
const message = document.getElementById('message');
const fmt = (n) => { const u = ['B/s','KiB/s','MiB/s','GiB/s']; let i = 0; while (n >= 1024 && i < 3) { n /= 1024; i++; } return n.toFixed(i ? 1 : 0) + ' ' + u[i]; };
async function api(method, path, body) {
  const headers = { 'x-peerdrop-csrf': '1' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(path, { method, credentials: 'same-origin', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.message || r.statusText);
  return data;
}
function cell(tr, i, text) { tr.children[i].textContent = text; }
function render(t) {
  let tr = rows.get(t.infoHash);
  if (!tr) {
    tr = document.createElement('tr');
    for (let i = 0; i < 7; i++) tr.appendChild(document.createElement('td'));
    tr.children[2].appendChild(document.createElement('progress'));
    const toggle = document.createElement('button');
    toggle.addEventListener('click', () => api('POST', '/api/torrents/' + t.infoHash + (tr.dataset.state === 'paused' ? '/resume' : '/pause')).catch(show));
    tr.children[6].appendChild(toggle);
    rows.set(t.infoHash, tr);
    tbody.appendChild(tr);
  }
  tr.dataset.state = t.state;
  cell(tr, 0, t.name); cell(tr, 1, t.state);
  tr.children[2].firstChild.value = t.progress;
  cell(tr, 3, fmt(t.downloadRate)); cell(tr, 4, fmt(t.uploadRate)); cell(tr, 5, String(t.peers));
  tr.children[6].firstChild.textContent = t.state === 'paused' ? 'Resume' : 'Pause';
}
function show(err) { message.textContent = err.message; }
function summary() { document.getElementById('summary').textContent = rows.size + ' torrents'; }
document.getElementById('add').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = document.getElementById('magnet');
  api('POST', '/api/torrents', { magnet: input.value.trim() }).then((t) => { render(t); summary(); input.value = ''; message.textContent = 'Added ' + t.name; }, show);
});
const events = new EventSource('/api/events');
events.addEventListener('torrents', (e) => { for (const t of JSON.parse(e.data).torrents) render(t); summary(); });
events.addEventListener('added', (e) => { render(JSON.parse(e.data)); summary(); });
events.addEventListener('removed', (e) => { const { infoHash } = JSON.parse(e.data); rows.get(infoHash)?.remove(); rows.delete(infoHash); summary(); });
`;

export function registerWebRoutes(app: FastifyInstance): void {
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(HTML),
  );
  app.get('/app.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(JS),
  );
  app.get('/app.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').send(CSS),
  );
}
