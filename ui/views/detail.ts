/** One torrent: its numbers, and tabs for files (selection, priorities, play), peers, trackers, diagnosis. */
import { useState } from 'preact/hooks';
import { api, fileUrl, messageOf, torrentPath } from '../api.js';
import type { FileView, PeerInfo, PeerSourceStatus, TorrentView } from '../api-types.js';
import { formatBytes, formatEta, formatPercent, formatRate, PRIORITY_LABEL, STATE_LABEL } from '../format.js';
import { html } from '../html.js';
import { usePoll } from '../poll.js';
import { go } from '../router.js';
import { forgetTorrent, useStore } from '../store.js';
import { notify } from '../toast.js';
import { DiagnosisPanel } from './diagnosis-panel.js';
import { toggleRun } from './list.js';

const TABS = [
  { key: 'files', label: 'Files' },
  { key: 'peers', label: 'Peers' },
  { key: 'trackers', label: 'Trackers' },
  { key: 'why', label: 'Why not downloading?' },
] as const;

const PLAYABLE = /\.(mp4|m4v|webm|ogv|mov|mp3|m4a|ogg|oga|opus|wav|flac)$/i;

function Player({ t, file, onClose }: { t: TorrentView; file: FileView; onClose: () => void }) {
  const src = fileUrl(t.infoHash, file.index);
  const isAudio = /\.(mp3|m4a|ogg|oga|opus|wav|flac)$/i.test(file.path);
  return html`<div class="player" aria-label=${`Playing ${file.path}`}>
    <div class="player-head">
      <strong>${file.path.split('/').pop()}</strong>
      <button type="button" class="btn small" onClick=${onClose}>Close player</button>
    </div>
    ${
      isAudio
        ? html`<audio id="player" controls autoplay src=${src}></audio>`
        : html`<video id="player" controls autoplay playsinline src=${src}></video>`
    }
    <p class="hint">It plays while it downloads: the pieces you watch are fetched first.</p>
  </div>`;
}

function FilesTab({ t }: { t: TorrentView }) {
  const [data, error, refresh] = usePoll<{ files: FileView[] | null }>(torrentPath(t.infoHash, '/files'), 0);
  const [playing, setPlaying] = useState<FileView | null>(null);
  const files = data?.files ?? null;
  const setPriority = async (changes: { index: number; priority: number }[]) => {
    try {
      await api.put(torrentPath(t.infoHash, '/files'), { files: changes });
      refresh();
    } catch (err) {
      notify(messageOf(err), 'error');
    }
  };
  if (error) return html`<p class="error">${error}</p>`;
  if (!data) return html`<p class="muted">Loading files…</p>`;
  if (!files)
    return html`<p class="empty">The file list comes with the metadata, which is fetched from the first peers.</p>`;
  const wanted = files.filter((f) => f.priority > 0).length;
  return html`<div>
    ${playing ? html`<${Player} t=${t} file=${playing} onClose=${() => setPlaying(null)} />` : null}
    <div class="files-head">
      <span>${wanted} of ${files.length} files selected</span>
      <button type="button" class="btn small" onClick=${() => setPriority(files.map((f) => ({ index: f.index, priority: 4 })))}>
        Select all
      </button>
      <button type="button" class="btn small" onClick=${() => setPriority(files.map((f) => ({ index: f.index, priority: 0 })))}>
        Select none
      </button>
    </div>
    <ul class="files">
      ${files.map(
        (f) => html`<li key=${f.index} class=${f.priority === 0 ? 'skipped' : ''}>
          <label class="check file-name">
            <input
              type="checkbox"
              checked=${f.priority > 0}
              onChange=${(e: Event) =>
                setPriority([{ index: f.index, priority: (e.target as HTMLInputElement).checked ? 4 : 0 }])}
            />
            <span title=${f.path}>${f.path}</span>
          </label>
          <span class="muted">${formatBytes(f.lengthBytes)}</span>
          <select
            aria-label=${`Priority of ${f.path}`}
            value=${String(f.priority === 0 ? 0 : f.priority <= 2 ? 1 : f.priority >= 6 ? 7 : 4)}
            onChange=${(e: Event) => setPriority([{ index: f.index, priority: Number((e.target as HTMLSelectElement).value) }])}
          >
            ${[0, 1, 4, 7].map((p) => html`<option value=${String(p)}>${PRIORITY_LABEL[p]}</option>`)}
          </select>
          <span class="file-actions">
            ${
              PLAYABLE.test(f.path)
                ? html`<button type="button" class="btn small" onClick=${() => setPlaying(f)}>Play</button>`
                : null
            }
            <a class="btn small" href=${fileUrl(t.infoHash, f.index)} target="_blank" rel="noopener">Open</a>
          </span>
        </li>`,
      )}
    </ul>
  </div>`;
}

function PeersTab({ t }: { t: TorrentView }) {
  const [data, error] = usePoll<{ peers: PeerInfo[] }>(torrentPath(t.infoHash, '/peers'), 2000);
  if (error) return html`<p class="error">${error}</p>`;
  if (!data) return html`<p class="muted">Loading peers…</p>`;
  if (data.peers.length === 0)
    return html`<p class="empty">No peers connected. See "Why not downloading?" for what was tried.</p>`;
  return html`<div class="table-wrap"><table class="grid">
    <thead><tr><th>Address</th><th>Client</th><th>Has</th><th>Down</th><th>Up</th><th>State</th></tr></thead>
    <tbody>
      ${data.peers.map(
        (p) => html`<tr key=${p.address}>
          <td><code>${p.address}</code>${p.isIncoming ? html` <span class="muted">in</span>` : null}</td>
          <td>${p.client || '–'}</td>
          <td>${formatPercent(p.progress)}</td>
          <td>${formatRate(p.downloadRate)}</td>
          <td>${formatRate(p.uploadRate)}</td>
          <td class="muted">${[p.peerChoking ? 'choking us' : 'unchoked us', p.amInterested ? 'we want' : ''].filter(Boolean).join(', ')}</td>
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}

function TrackersTab({ t }: { t: TorrentView }) {
  const [data, error] = usePoll<{ trackers: PeerSourceStatus[] }>(torrentPath(t.infoHash, '/trackers'), 3000);
  if (error) return html`<p class="error">${error}</p>`;
  if (!data) return html`<p class="muted">Loading trackers…</p>`;
  if (data.trackers.length === 0)
    return html`<p class="empty">No trackers or other peer sources for this torrent.</p>`;
  return html`<div class="table-wrap"><table class="grid">
    <thead><tr><th>Source</th><th>Status</th><th>Peers</th><th>Message</th></tr></thead>
    <tbody>
      ${data.trackers.map(
        (s) => html`<tr key=${s.name}>
          <td><code>${s.name}</code></td>
          <td><span class=${`badge badge-${s.status === 'error' ? 'error' : s.status === 'ok' ? 'seeding' : 'paused'}`}>${s.status}</span></td>
          <td>${s.peers}</td>
          <td class="muted">${s.message ?? ''}</td>
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}

async function remove(t: TorrentView): Promise<void> {
  const deleteData = confirm(
    `Remove "${t.name}"?\n\nOK removes it and deletes its downloaded files.\nCancel keeps everything.`,
  );
  if (!deleteData && !confirm(`Remove "${t.name}" from the list but keep its files on disk?`)) return;
  try {
    await api.del(torrentPath(t.infoHash, `?deleteData=${deleteData}`));
    forgetTorrent(t.infoHash);
    notify(`Removed ${t.name}`);
    go('#/');
  } catch (err) {
    notify(messageOf(err), 'error');
  }
}

async function copy(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    notify('Magnet link copied');
  } catch {
    notify('Copy is not allowed here; select the link and copy it.', 'error');
  }
}

export function TorrentDetail({ infoHash, tab }: { infoHash: string; tab: string }) {
  const { torrents, isLoaded } = useStore();
  const t = torrents.get(infoHash);
  if (!t)
    return html`<section class="panel"><p class=${isLoaded ? 'empty' : 'muted'}>
      ${isLoaded ? 'This torrent is not in the list (removed?).' : 'Loading…'}</p><a class="btn" href="#/">Back to the list</a></section>`;
  const isStopped = t.state === 'paused' || t.state === 'stopped';
  const current = TABS.some((x) => x.key === tab) ? tab : 'files';
  return html`<section class="panel detail" aria-labelledby="detail-title" data-infohash=${t.infoHash}>
    <a class="back" href="#/">← All torrents</a>
    <h1 id="detail-title" class="detail-title">${t.name}</h1>
    <div class="detail-head">
      <span class=${`badge badge-${t.state}`}>${STATE_LABEL[t.state] ?? t.state}</span>
      <div class="bar wide" role="progressbar" aria-label="progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(t.progress * 100)}>
        <span class="bar-fill" style=${{ width: `${(t.progress * 100).toFixed(1)}%` }}></span>
      </div>
      <span class="pct">${formatPercent(t.progress)}</span>
    </div>
    ${t.error ? html`<p class="error">${t.error}</p>` : null}
    <dl class="facts">
      <div><dt>Size</dt><dd>${formatBytes(t.totalBytes)}</dd></div>
      <div><dt>Verified</dt><dd>${formatBytes(t.verifiedBytes)}</dd></div>
      <div><dt>Down</dt><dd>${formatRate(t.downloadRate)}</dd></div>
      <div><dt>Up</dt><dd>${formatRate(t.uploadRate)}</dd></div>
      <div><dt>Uploaded</dt><dd>${formatBytes(t.uploadedBytes)}</dd></div>
      <div><dt>Peers</dt><dd>${t.peers} (${t.seeds} seeds)</dd></div>
      <div><dt>ETA</dt><dd>${t.state === 'downloading' ? formatEta(t.etaSeconds) : '–'}</dd></div>
      <div><dt>Folder</dt><dd><code>${t.downloadDir}</code></dd></div>
      <div><dt>Info-hash</dt><dd><code class="hash">${t.infoHash}</code></dd></div>
    </dl>
    <div class="actions">
      <button type="button" class="btn primary" onClick=${() => toggleRun(t)}>${isStopped ? 'Resume' : 'Pause'}</button>
      ${t.magnet ? html`<button type="button" class="btn" onClick=${() => copy(t.magnet!)}>Copy magnet link</button>` : null}
      <button type="button" class="btn danger" onClick=${() => remove(t)}>Remove…</button>
    </div>
    <nav class="tabs" aria-label="Torrent details">
      ${TABS.map(
        (x) =>
          html`<a href=${`#/t/${t.infoHash}/${x.key}`} class=${`tab${current === x.key ? ' on' : ''}`} aria-current=${current === x.key ? 'page' : undefined}>${x.label}</a>`,
      )}
    </nav>
    <div class="tab-body">
      ${current === 'files' ? html`<${FilesTab} t=${t} />` : null}
      ${current === 'peers' ? html`<${PeersTab} t=${t} />` : null}
      ${current === 'trackers' ? html`<${TrackersTab} t=${t} />` : null}
      ${current === 'why' ? html`<${DiagnosisPanel} t=${t} />` : null}
    </div>
  </section>`;
}
