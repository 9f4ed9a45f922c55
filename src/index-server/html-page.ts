import type { SearchHit } from './store.js';

/** The plain server-rendered search page at `/`. Every value from the index is escaped. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function formatSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

function health(n: number | null): string {
  return n === null ? '?' : String(n);
}

/** The seeders cell: the count, or `?` with the reason it is unknown. */
function seedersCell(h: SearchHit, note: string | null): string {
  if (h.seeders !== null || note === null) return `<td>${health(h.seeders)}</td>`;
  return `<td title="${escapeHtml(note)}">?<br><small class="note">${escapeHtml(note)}</small></td>`;
}

export interface PageModel {
  readonly q: string;
  readonly category: string;
  readonly results: readonly SearchHit[] | null;
  readonly page: number;
  readonly hasMore: boolean;
  readonly error: string | null;
  /** Why a result's health is unknown (see health.ts `healthNote`). */
  readonly healthNote?: (h: SearchHit) => string | null;
}

function row(h: SearchHit, note: string | null): string {
  const title = h.title || h.name;
  return `<tr><td>${escapeHtml(title)}<br><small>${escapeHtml(h.name)}</small></td><td>${escapeHtml(h.category)}</td>
<td>${formatSize(h.sizeBytes)}</td>${seedersCell(h, note)}<td>${health(h.leechers)}</td>
<td><a href="${escapeHtml(h.magnet)}">magnet</a></td></tr>`;
}

function pageLink(m: PageModel, page: number, label: string): string {
  const qs = new URLSearchParams({ q: m.q, category: m.category, page: String(page) });
  return `<a href="/?${escapeHtml(qs.toString())}">${label}</a>`;
}

export function renderSearchPage(m: PageModel): string {
  let body = '';
  if (m.error !== null) body = `<p class="error">${escapeHtml(m.error)}</p>`;
  else if (m.results !== null && m.results.length === 0) body = '<p>No results.</p>';
  else if (m.results !== null) {
    body = `<table><thead><tr><th>Title</th><th>Category</th><th>Size</th><th>Seeders</th><th>Leechers</th><th></th></tr></thead>
<tbody>${m.results.map((h) => row(h, m.healthNote?.(h) ?? null)).join('\n')}</tbody></table>
<p>${m.page > 1 ? pageLink(m, m.page - 1, '&larr; previous') : ''} ${m.hasMore ? pageLink(m, m.page + 1, 'next &rarr;') : ''}</p>`;
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>peerdrop index</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}.error{color:#a00}.note{color:#666}</style></head>
<body><h1>peerdrop index</h1>
<form method="get" action="/"><input name="q" value="${escapeHtml(m.q)}" maxlength="256" size="40" autofocus>
<input name="category" value="${escapeHtml(m.category)}" placeholder="category" size="10">
<button type="submit">Search</button></form>
${body}
</body></html>`;
}
