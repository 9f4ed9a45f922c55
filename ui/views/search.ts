/** Search the central index (through the daemon) and add a result in one click. */
import { useEffect, useState } from 'preact/hooks';
import { api, messageOf } from '../api.js';
import type { SearchResult } from '../api-types.js';
import { formatBytes } from '../format.js';
import { html } from '../html.js';
import { go } from '../router.js';
import { useStore } from '../store.js';
import { notify } from '../toast.js';
import { addMagnet } from './add.js';

interface SearchReply {
  readonly results: SearchResult[];
  readonly hasMore: boolean;
  readonly index: string;
}

function ResultRow({ r, isAdded }: { r: SearchResult; isAdded: boolean }) {
  const [busy, setBusy] = useState(false);
  const add = async () => {
    setBusy(true);
    try {
      const v = await addMagnet(r.magnet);
      notify(`Added ${v.name}`);
    } catch (err) {
      notify(messageOf(err), 'error');
    } finally {
      setBusy(false);
    }
  };
  return html`<li class="result">
    <div class="result-main">
      <strong>${r.title || r.name}</strong>
      <span class="muted">${r.category} · ${formatBytes(r.sizeBytes)} · ${r.seeders ?? '?'} seeds, ${r.leechers ?? '?'} leechers</span>
    </div>
    ${
      isAdded
        ? html`<a class="btn small" href=${`#/t/${r.infoHash}`}>Added ✓</a>`
        : html`<button type="button" class="btn small primary" disabled=${busy} onClick=${add}>${busy ? 'Adding…' : 'Add'}</button>`
    }
  </li>`;
}

export function SearchView({ query }: { query: string }) {
  const { torrents } = useStore();
  const [text, setText] = useState(query);
  const [reply, setReply] = useState<SearchReply | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setText(query);
    if (!query.trim()) {
      setReply(null);
      return;
    }
    let isLive = true;
    setBusy(true);
    setError(null);
    api
      .get<SearchReply>(`/api/search?q=${encodeURIComponent(query)}`)
      .then(
        (r) => isLive && setReply(r),
        (err) => isLive && setError(messageOf(err)),
      )
      .finally(() => isLive && setBusy(false));
    return () => {
      isLive = false;
    };
  }, [query]);
  return html`<section class="panel" aria-labelledby="search-title">
    <h1 id="search-title">Search the index</h1>
    <form
      class="inline-form"
      role="search"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        go(`#/search?q=${encodeURIComponent(text.trim())}`);
      }}
    >
      <input
        id="search-text"
        type="search"
        placeholder="words, &quot;a phrase&quot;, -excluded"
        aria-label="Search words"
        value=${text}
        onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)}
      />
      <button class="btn primary" type="submit">Search</button>
    </form>
    ${busy ? html`<p class="muted">Searching…</p>` : null}
    ${
      error
        ? html`<p class="error" role="alert">${error}</p>
            <p class="muted">The index is set in <a href="#/settings">Settings</a>.</p>`
        : null
    }
    ${
      reply && !busy
        ? reply.results.length === 0
          ? html`<p class="empty">No results on ${reply.index}. Try fewer or other words.</p>`
          : html`<ul class="results">
              ${reply.results.map(
                (r) =>
                  html`<${ResultRow} key=${r.infoHash ?? r.infoHashV2} r=${r} isAdded=${r.infoHash !== null && torrents.has(r.infoHash)} />`,
              )}
            </ul>`
        : null
    }
    ${!query && !error ? html`<p class="empty">Type what you are looking for. Results come from the central index the daemon is set to.</p>` : null}
  </section>`;
}
