/** Add torrents: magnet links (one a line), `.torrent` files from a picker, or dropped on the page. */
import { useRef, useState } from 'preact/hooks';
import { api, messageOf } from '../api.js';
import type { TorrentView } from '../api-types.js';
import { html } from '../html.js';
import { go } from '../router.js';
import { upsertTorrent } from '../store.js';
import { notify } from '../toast.js';

export interface AddOptions {
  readonly downloadDir?: string;
  readonly isPaused?: boolean;
}

export async function addMagnet(magnet: string, opts: AddOptions = {}): Promise<TorrentView> {
  const view = await api.post<TorrentView>('/api/torrents', {
    magnet,
    ...(opts.downloadDir ? { downloadDir: opts.downloadDir } : {}),
    ...(opts.isPaused ? { paused: true } : {}),
  });
  upsertTorrent(view);
  return view;
}

export async function addTorrentFile(file: File, opts: AddOptions = {}): Promise<TorrentView> {
  const form = new FormData();
  if (opts.downloadDir) form.append('downloadDir', opts.downloadDir);
  if (opts.isPaused) form.append('paused', 'true');
  form.append('torrent', file, file.name);
  const view = await api.form<TorrentView>('/api/torrents/upload', form);
  upsertTorrent(view);
  return view;
}

/** Files and magnet text dropped on the page; returns how many were added. */
export async function addDropped(data: DataTransfer): Promise<number> {
  let added = 0;
  const files = [...data.files].filter((f) => f.name.toLowerCase().endsWith('.torrent'));
  for (const f of files) {
    try {
      const v = await addTorrentFile(f);
      notify(`Added ${v.name}`);
      added++;
    } catch (err) {
      notify(`${f.name}: ${messageOf(err)}`, 'error');
    }
  }
  if (files.length === 0) {
    const text = data.getData('text/uri-list') || data.getData('text/plain');
    for (const m of magnetsIn(text)) {
      try {
        const v = await addMagnet(m);
        notify(`Added ${v.name}`);
        added++;
      } catch (err) {
        notify(messageOf(err), 'error');
      }
    }
    if (added === 0 && data.files.length > 0)
      notify('Only .torrent files and magnet links can be added.', 'error');
  }
  return added;
}

export function magnetsIn(text: string): string[] {
  return text
    .split(/\s+/)
    .map((s) => s.trim())
    .filter((s) => s.startsWith('magnet:?'));
}

export function AddView() {
  const [magnets, setMagnets] = useState('');
  const [dir, setDir] = useState('');
  const [isPaused, setPaused] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const opts = { downloadDir: dir.trim(), isPaused };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const links = magnetsIn(magnets);
    const files = [...(fileInput.current?.files ?? [])];
    if (links.length === 0 && files.length === 0) {
      setError('Paste a magnet link (it starts with magnet:?) or choose a .torrent file.');
      return;
    }
    setBusy(true);
    const added: TorrentView[] = [];
    const failures: string[] = [];
    for (const m of links)
      await addMagnet(m, opts).then(
        (v) => added.push(v),
        (err) => failures.push(messageOf(err)),
      );
    for (const f of files)
      await addTorrentFile(f, opts).then(
        (v) => added.push(v),
        (err) => failures.push(`${f.name}: ${messageOf(err)}`),
      );
    setBusy(false);
    if (failures.length > 0) setError(failures.join('\n'));
    if (added.length > 0) {
      notify(added.length === 1 ? `Added ${added[0]!.name}` : `Added ${added.length} torrents`);
      if (failures.length === 0) go(added.length === 1 ? `#/t/${added[0]!.infoHash}` : '#/');
    }
  };

  return html`<section class="panel narrow" aria-labelledby="add-title">
    <h1 id="add-title">Add a torrent</h1>
    <form class="stack" onSubmit=${submit}>
      <label class="field">
        <span>Magnet links</span>
        <textarea
          id="magnet"
          name="magnet"
          rows="3"
          placeholder="magnet:?xt=urn:btih:…  (one a line)"
          value=${magnets}
          onInput=${(e: Event) => setMagnets((e.target as HTMLTextAreaElement).value)}
        ></textarea>
      </label>
      <label class="field">
        <span>or .torrent files</span>
        <input ref=${fileInput} id="torrent-file" type="file" accept=".torrent,application/x-bittorrent" multiple />
      </label>
      <p class="hint">You can also drop .torrent files or magnet links anywhere on the page.</p>
      <details>
        <summary>Options</summary>
        <div class="stack">
          <label class="field">
            <span>Folder inside the download folder (optional)</span>
            <input
              type="text"
              placeholder="movies/2024"
              value=${dir}
              onInput=${(e: Event) => setDir((e.target as HTMLInputElement).value)}
            />
          </label>
          <label class="check">
            <input type="checkbox" checked=${isPaused} onChange=${(e: Event) => setPaused((e.target as HTMLInputElement).checked)} />
            Add paused
          </label>
        </div>
      </details>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <div class="actions">
        <button class="btn primary" type="submit" disabled=${busy}>${busy ? 'Adding…' : 'Add'}</button>
        <a class="btn" href="#/">Cancel</a>
      </div>
    </form>
  </section>`;
}
