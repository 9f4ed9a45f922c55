/**
 * Share a file or folder from the download folder: pick it, let the daemon check it for what
 * should not be shared (keys, credentials, wallets…), confirm if something was found, then get
 * the magnet link and its QR code while the daemon seeds it.
 */
import { useState } from 'preact/hooks';
import { ApiError, api, messageOf } from '../api.js';
import type { ShareFinding, ShareResult } from '../api-types.js';
import { html } from '../html.js';
import { QrCode } from '../qr.js';
import { upsertTorrent } from '../store.js';
import { notify } from '../toast.js';
import { Browser } from './browser.js';
import { Findings, PrivateWarning } from './private-warning.js';

function Result({ result }: { result: ShareResult }) {
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(result.magnet);
      notify('Magnet link copied');
    } catch {
      notify('Copy is not allowed here; select the link and copy it.', 'error');
    }
  };
  return html`<div class="share-result" id="share-result">
    <h2>Sharing ${result.name}</h2>
    <p>It is seeding now. Others add this link in peerdrop or any BitTorrent client, or scan the code:</p>
    <div class="share-grid">
      <${QrCode} text=${result.magnet} label=${`QR code of the magnet link for ${result.name}`} />
      <div class="stack">
        <label class="field">
          <span>Magnet link</span>
          <textarea id="share-magnet" readonly rows="4" value=${result.magnet} onFocus=${(e: Event) => (e.target as HTMLTextAreaElement).select()}></textarea>
        </label>
        <div class="actions">
          <button type="button" class="btn primary" onClick=${copy}>Copy link</button>
          <a class="btn" href=${`#/t/${result.torrent.infoHash}`}>Open the torrent</a>
        </div>
        ${
          result.findings.length > 0
            ? html`<p class="warn">Shared although these looked sensitive:</p><${Findings} findings=${result.findings} />`
            : html`<p class="ok">Checked: nothing that looks private (keys, credentials, wallets) was found.</p>`
        }
      </div>
    </div>
  </div>`;
}

export function ShareView() {
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [findings, setFindings] = useState<readonly ShareFinding[] | null>(null);
  const [result, setResult] = useState<ShareResult | null>(null);

  const share = async (target: string, includeSensitive: boolean) => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const r = await api.post<ShareResult>('/api/share', { path: target, includeSensitive });
      upsertTorrent(r.torrent);
      setResult(r);
      setFindings(null);
      notify(`Sharing ${r.name}`);
    } catch (err) {
      const body = err instanceof ApiError ? (err.body as { findings?: ShareFinding[] } | null) : null;
      if (err instanceof ApiError && err.code === 'SHARE_SENSITIVE' && body?.findings)
        setFindings(body.findings);
      else setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const pick = (p: string) => {
    setPath(p);
    setFindings(null);
    void share(p, false);
  };

  return html`<section class="panel" aria-labelledby="share-title">
    <h1 id="share-title">Share a file or folder</h1>
    <p class="muted">peerdrop makes a torrent of it, seeds it from here, and gives you a link to send. Only what is inside the download folder can be shared.</p>
    <form
      class="inline-form"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        if (path.trim()) pick(path.trim());
      }}
    >
      <input
        id="share-path"
        type="text"
        placeholder="folder or file inside the download folder"
        aria-label="Path to share"
        value=${path}
        onInput=${(e: Event) => setPath((e.target as HTMLInputElement).value)}
      />
      <button class="btn primary" type="submit" disabled=${busy || !path.trim()}>${busy ? 'Hashing…' : 'Share'}</button>
    </form>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${
      findings
        ? html`<${PrivateWarning}
            id="share-findings"
            findings=${findings}
            who="Anyone with the link"
            verb="share"
            busy=${busy}
            onConfirm=${() => share(path, true)}
            onCancel=${() => setFindings(null)}
          />`
        : null
    }
    ${result ? html`<${Result} result=${result} />` : null}
    <h2>Download folder</h2>
    <${Browser} onPick=${pick} action="Share" />
  </section>`;
}
