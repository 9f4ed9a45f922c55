/**
 * peerdrop's web page: a shell (header, navigation, totals, theme toggle, drop target, toasts)
 * around one screen chosen by the URL hash. State comes live from /api/events (store.ts).
 */
import './app.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { formatRate } from './format.js';
import { html } from './html.js';
import { type Route, useRoute } from './router.js';
import { connect, useStore } from './store.js';
import { applyTheme, effectiveTheme, storedTheme, toggledTheme } from './theme.js';
import { useToasts } from './toast.js';
import { AddView, addDropped } from './views/add.js';
import { TorrentDetail } from './views/detail.js';
import { HandoffView } from './views/handoff.js';
import { TorrentList } from './views/list.js';
import { SearchView } from './views/search.js';
import { SettingsView } from './views/settings.js';
import { ShareView } from './views/share.js';

const NAV = [
  { hash: '#/', label: 'Torrents', route: 'list' },
  { hash: '#/add', label: 'Add', route: 'add' },
  { hash: '#/share', label: 'Share', route: 'share' },
  { hash: '#/send', label: 'Send & receive', route: 'send' },
  { hash: '#/search', label: 'Search', route: 'search' },
  { hash: '#/settings', label: 'Settings', route: 'settings' },
] as const;

function Screen({ route }: { route: Route }) {
  switch (route.name) {
    case 'list':
      return html`<${TorrentList} />`;
    case 'torrent':
      return html`<${TorrentDetail} infoHash=${route.infoHash} tab=${route.tab} />`;
    case 'add':
      return html`<${AddView} />`;
    case 'share':
      return html`<${ShareView} />`;
    case 'send':
      return html`<${HandoffView} />`;
    case 'search':
      return html`<${SearchView} query=${route.query} />`;
    case 'settings':
      return html`<${SettingsView} />`;
  }
}

function SignedOut() {
  return html`<section class="panel narrow signed-out">
    <h1>Sign in to peerdrop</h1>
    <p>This page needs the one-time login link that the daemon printed when it started (<code>npx peerdrop</code>).</p>
    <p class="muted">Already used it? Ask the running daemon for a new one with <code>curl -X POST -H "Authorization: Bearer $(cat ~/.local/share/peerdrop/token)" http://127.0.0.1:9091/api/login-links</code>.</p>
  </section>`;
}

function Totals() {
  const { torrents, connection } = useStore();
  let down = 0;
  let up = 0;
  for (const t of torrents.values()) {
    down += t.downloadRate;
    up += t.uploadRate;
  }
  const label =
    connection === 'live'
      ? 'Live'
      : connection === 'connecting'
        ? 'Connecting…'
        : connection === 'signed-out'
          ? 'Signed out'
          : 'Reconnecting…';
  return html`<div class="totals" aria-live="polite">
    <span title="Total download rate">↓ ${formatRate(down)}</span>
    <span title="Total upload rate">↑ ${formatRate(up)}</span>
    <span class=${`conn conn-${connection}`} title="Connection to the daemon">${label}</span>
  </div>`;
}

function ThemeToggle() {
  const [theme, setTheme] = useState(storedTheme);
  const next = toggledTheme(theme);
  return html`<button
    type="button"
    class="icon-btn"
    id="theme-toggle"
    aria-label=${`Switch to ${next} theme`}
    title=${`Switch to ${next} theme`}
    onClick=${() => {
      setTheme(next);
      applyTheme(next);
    }}
  >
    ${effectiveTheme(theme) === 'dark' ? '☀' : '☾'}
  </button>`;
}

function Toasts() {
  const toasts = useToasts();
  return html`<div class="toasts" role="status" aria-live="polite">
    ${toasts.map((t) => html`<div key=${t.id} class=${`toast ${t.kind}`}>${t.text}</div>`)}
  </div>`;
}

/** Drop .torrent files or magnet links anywhere: a full-page target while dragging. */
function useDrop(): boolean {
  const [isOver, setOver] = useState(false);
  useEffect(() => {
    let depth = 0;
    const enter = (e: DragEvent) => {
      e.preventDefault();
      depth++;
      setOver(true);
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setOver(false);
    };
    const over = (e: DragEvent) => e.preventDefault();
    const drop = (e: DragEvent) => {
      e.preventDefault();
      depth = 0;
      setOver(false);
      if (e.dataTransfer) void addDropped(e.dataTransfer);
    };
    addEventListener('dragenter', enter);
    addEventListener('dragleave', leave);
    addEventListener('dragover', over);
    addEventListener('drop', drop);
    return () => {
      removeEventListener('dragenter', enter);
      removeEventListener('dragleave', leave);
      removeEventListener('dragover', over);
      removeEventListener('drop', drop);
    };
  }, []);
  return isOver;
}

/** `/` jumps to the filter or search box; the rest is plain Tab and Enter. */
function useShortcuts(): void {
  useEffect(() => {
    const key = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (target.closest('input, textarea, select, [contenteditable]')) return;
      if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey) {
        const box = document.querySelector<HTMLInputElement>(
          '#filter-text, #search-text, #share-path, #magnet, #receive-code',
        );
        if (box) {
          e.preventDefault();
          box.focus();
        }
      }
    };
    addEventListener('keydown', key);
    return () => removeEventListener('keydown', key);
  }, []);
}

function App() {
  const route = useRoute();
  const { connection } = useStore();
  const isOver = useDrop();
  useShortcuts();
  const active = route.name === 'torrent' ? 'list' : route.name;
  return html`<div class="shell">
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="#/" aria-label="peerdrop: all torrents"><span class="logo" aria-hidden="true">◆</span> peerdrop</a>
      <nav class="nav" aria-label="Main">
        ${NAV.map((n) => html`<a href=${n.hash} class=${active === n.route ? 'on' : ''} aria-current=${active === n.route ? 'page' : undefined}>${n.label}</a>`)}
      </nav>
      <${Totals} />
      <${ThemeToggle} />
    </header>
    <main id="main" tabindex="-1">
      ${connection === 'signed-out' ? html`<${SignedOut} />` : html`<${Screen} route=${route} />`}
    </main>
    ${isOver ? html`<div class="drop-overlay" aria-hidden="true"><p>Drop .torrent files or magnet links to add them</p></div>` : null}
    <${Toasts} />
  </div>`;
}

applyTheme(storedTheme());
connect();
const root = document.getElementById('app')!;
root.textContent = '';
render(html`<${App} />`, root);
// For bench/micro/ui-first-render.ts: the shell is on screen.
performance.mark('peerdrop-first-render');
document.documentElement.dataset.rendered = 'true';
