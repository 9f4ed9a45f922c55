/** The torrent list: filters with counts, text filter, sorting, one row per torrent, live. */
import { useState } from 'preact/hooks';
import { api, messageOf, torrentPath } from '../api.js';
import type { TorrentView } from '../api-types.js';
import { formatBytes, formatEta, formatPercent, formatRate, STATE_LABEL } from '../format.js';
import { html } from '../html.js';
import { countByFilter, FILTERS, type Filter, SORTS, type SortKey, visibleTorrents } from '../list-model.js';
import { upsertTorrent, useStore } from '../store.js';
import { notify } from '../toast.js';

const PREFS_KEY = 'peerdrop-list';
/**
 * Rows drawn at first, and per "show more": 1,000 rows of ~25 elements each took the first
 * render from ~0.6 s to ~2.7 s (bench/micro/ui-first-render.ts); sorting and filters still
 * cover every torrent.
 */
const PAGE_ROWS = 100;

interface Prefs {
  filter: Filter;
  sort: SortKey;
  isDescending: boolean;
}

function loadPrefs(): Prefs {
  try {
    const p = JSON.parse(localStorage.getItem(PREFS_KEY) ?? '{}') as Partial<Prefs>;
    return {
      filter: FILTERS.some((f) => f.key === p.filter) ? p.filter! : 'all',
      sort: SORTS.some((s) => s.key === p.sort) ? p.sort! : 'added',
      isDescending: p.isDescending ?? true,
    };
  } catch {
    return { filter: 'all', sort: 'added', isDescending: true };
  }
}

function savePrefs(p: Prefs): void {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(p));
  } catch {
    // No storage: the choice lasts for this page.
  }
}

export async function toggleRun(t: TorrentView): Promise<void> {
  const isStopped = t.state === 'paused' || t.state === 'stopped';
  try {
    const view = await api.post<TorrentView>(torrentPath(t.infoHash, isStopped ? '/resume' : '/pause'));
    if (view) upsertTorrent(view);
  } catch (err) {
    notify(messageOf(err), 'error');
  }
}

function Row({ t }: { t: TorrentView }) {
  const isStopped = t.state === 'paused' || t.state === 'stopped';
  const pct = formatPercent(t.progress);
  const size = t.totalBytes ?? (t.wantedBytes || null);
  return html`<li class=${`row state-${t.state}`} data-infohash=${t.infoHash} data-state=${t.state}>
    <a class="row-name" href=${`#/t/${t.infoHash}`} title=${t.name}>${t.name || t.infoHash}</a>
    <span class=${`badge row-badge badge-${t.state}`}>${STATE_LABEL[t.state] ?? t.state}</span>
    <div class="row-progress">
      <div
        class="bar"
        role="progressbar"
        aria-label=${`${t.name} progress`}
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow=${Math.round(t.progress * 100)}
      >
        <span class="bar-fill" style=${{ width: `${(t.progress * 100).toFixed(1)}%` }}></span>
      </div>
      <span class="pct" data-testid="progress">${pct}</span>
    </div>
    <dl class="row-stats">
      <div><dt>Size</dt><dd>${size === null ? '–' : formatBytes(size)}</dd></div>
      <div><dt>Down</dt><dd>${formatRate(t.downloadRate)}</dd></div>
      <div><dt>Up</dt><dd>${formatRate(t.uploadRate)}</dd></div>
      <div><dt>Peers</dt><dd>${t.peers}${t.seeds ? ` (${t.seeds} seeds)` : ''}</dd></div>
      <div><dt>ETA</dt><dd>${t.state === 'downloading' ? formatEta(t.etaSeconds) : '–'}</dd></div>
    </dl>
    ${t.error ? html`<p class="row-error">${t.error}</p>` : null}
    <div class="row-actions">
      <button type="button" class="btn small" onClick=${() => toggleRun(t)}>
        ${isStopped ? 'Resume' : 'Pause'}
      </button>
    </div>
  </li>`;
}

function Empty({ hasAny }: { hasAny: boolean }) {
  if (hasAny)
    return html`<div class="empty"><p>No torrent matches these filters.</p>
      <p class="muted">Choose "All" or clear the text filter.</p></div>`;
  return html`<div class="empty">
    <h2>Nothing here yet</h2>
    <p>Add a magnet link or a <code>.torrent</code> file, drop one anywhere on this page, or share a folder so others can download it.</p>
    <p class="empty-actions">
      <a class="btn primary" href="#/add">Add a torrent</a>
      <a class="btn" href="#/share">Share a file or folder</a>
      <a class="btn" href="#/search">Search the index</a>
    </p>
  </div>`;
}

export function TorrentList() {
  const { torrents, isLoaded } = useStore();
  const [prefs, setPrefs] = useState(loadPrefs);
  const [text, setText] = useState('');
  const [limit, setLimit] = useState(PAGE_ROWS);
  const update = (patch: Partial<Prefs>) => {
    const next = { ...prefs, ...patch };
    setPrefs(next);
    savePrefs(next);
  };
  const all = [...torrents.values()];
  const counts = countByFilter(all);
  const shown = visibleTorrents(all, { ...prefs, text });
  return html`<section class="list" aria-labelledby="list-title">
    <div class="toolbar">
      <h1 id="list-title" class="visually-hidden">Torrents</h1>
      <div class="filters" role="group" aria-label="Show">
        ${FILTERS.map(
          (f) => html`<button
            type="button"
            class=${`chip${prefs.filter === f.key ? ' on' : ''}`}
            aria-pressed=${prefs.filter === f.key}
            onClick=${() => update({ filter: f.key })}
          >
            ${f.label} <span class="count">${counts[f.key]}</span>
          </button>`,
        )}
      </div>
      <div class="list-controls">
        <input
          id="filter-text"
          type="search"
          placeholder="Filter by name or label  ( / )"
          aria-label="Filter by name or label"
          value=${text}
          onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)}
        />
        <label class="sort">
          <span class="visually-hidden">Sort by</span>
          <select
            aria-label="Sort by"
            value=${prefs.sort}
            onChange=${(e: Event) => update({ sort: (e.target as HTMLSelectElement).value as SortKey })}
          >
            ${SORTS.map((s) => html`<option value=${s.key}>${s.label}</option>`)}
          </select>
        </label>
        <button
          type="button"
          class="btn small"
          aria-label=${prefs.isDescending ? 'Descending; switch to ascending' : 'Ascending; switch to descending'}
          onClick=${() => update({ isDescending: !prefs.isDescending })}
        >
          ${prefs.isDescending ? '↓' : '↑'}
        </button>
      </div>
    </div>
    ${
      !isLoaded
        ? html`<p class="muted loading">Loading torrents…</p>`
        : shown.length === 0
          ? html`<${Empty} hasAny=${all.length > 0} />`
          : html`<ul class="rows" id="torrents">
                ${shown.slice(0, limit).map((t) => html`<${Row} key=${t.infoHash} t=${t} />`)}
              </ul>
              ${
                shown.length > limit
                  ? html`<p class="more">
                      <button type="button" class="btn" onClick=${() => setLimit(limit + PAGE_ROWS * 5)}>
                        Show more (${shown.length - limit} not shown)
                      </button>
                    </p>`
                  : null
              }`
    }
  </section>`;
}
