/**
 * A folder browser of the download folder (GET /api/share/browse): walk folders, pick a file or
 * a folder. Used by the Share page and the Send page; `action` names the button ("Share", "Send").
 */
import { useEffect, useState } from 'preact/hooks';
import { api, messageOf } from '../api.js';
import type { BrowseResult } from '../api-types.js';
import { formatBytes } from '../format.js';
import { html } from '../html.js';

function joinPath(base: string, name: string): string {
  return base ? `${base}/${name}` : name;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function Browser({ onPick, action }: { onPick: (path: string) => void; action: string }) {
  const [path, setPath] = useState('');
  const [data, setData] = useState<BrowseResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let isLive = true;
    setError(null);
    api.get<BrowseResult>(`/api/share/browse?path=${encodeURIComponent(path)}`).then(
      (d) => isLive && setData(d),
      (err) => isLive && setError(messageOf(err)),
    );
    return () => {
      isLive = false;
    };
  }, [path]);
  if (error) return html`<p class="error">${error}</p>`;
  if (!data) return html`<p class="muted">Loading the download folder…</p>`;
  return html`<div class="browser">
    <div class="browser-head">
      <code title=${data.root}>${data.path ? `${data.root}/${data.path}` : data.root}</code>
      ${path ? html`<button type="button" class="btn small" onClick=${() => setPath(parentOf(path))}>Up</button>` : null}
      ${path ? html`<button type="button" class="btn small primary" onClick=${() => onPick(path)}>${action} this folder</button>` : null}
    </div>
    ${
      data.entries.length === 0
        ? html`<p class="empty">This folder is empty. Put the files in the download folder, then come back.</p>`
        : html`<ul class="entries">
            ${data.entries.map(
              (e) => html`<li key=${e.name}>
                ${
                  e.isDir
                    ? html`<button type="button" class="link" onClick=${() => setPath(joinPath(path, e.name))}>📁 ${e.name}</button>`
                    : html`<span>📄 ${e.name} <span class="muted">${formatBytes(e.sizeBytes)}</span></span>`
                }
                <button type="button" class="btn small" data-pick=${e.name} aria-label=${`${action} ${e.name}`} onClick=${() => onPick(joinPath(path, e.name))}>${action}</button>
              </li>`,
            )}
          </ul>`
    }
  </div>`;
}
