/**
 * Person to person (`peerdrop send` / `receive`, issue 14) in the page. Send: pick a file or
 * folder of the download folder, get a short code to read out (large, with a QR code and a copy
 * button) and follow the send live. Receive: type the code a sender gives you, see what is
 * offered (names, sizes, count, names that look disguised) and accept or decline; nothing is
 * written before you accept. Both poll their job (`/api/send/:id`, `/api/receive/:id`).
 */
import { useEffect, useState } from 'preact/hooks';
import type {
  OfferView,
  ReceiveStatus,
  SendFinding,
  SendStatus,
} from '../../src/daemon/routes-handoff-types.js';
import { ApiError, api, messageOf } from '../api.js';
import { formatBytes, formatPercent, formatRate } from '../format.js';
import { html } from '../html.js';
import { QrCode } from '../qr.js';
import { notify } from '../toast.js';
import { Browser } from './browser.js';
import { Findings, PrivateWarning } from './private-warning.js';

const POLL_MS = 700;
const SEND_RUNNING = new Set(['waiting', 'connected', 'sending']);
const RECEIVE_RUNNING = new Set(['finding', 'offer', 'receiving']);

/** Poll `path` while `isRunning(latest)`; the latest answer, starting from `first`. */
function useJob<T>(path: string, first: T, isRunning: (s: T) => boolean): [T, (s: T) => void] {
  const [status, setStatus] = useState(first);
  const running = isRunning(status);
  useEffect(() => {
    if (!running) return;
    let isLive = true;
    const timer = setInterval(() => {
      api.get<T>(path).then(
        (s) => isLive && setStatus(s),
        () => {},
      );
    }, POLL_MS);
    return () => {
      isLive = false;
      clearInterval(timer);
    };
  }, [path, running]);
  return [status, setStatus];
}

function Bar({ value, label }: { value: number; label: string }) {
  return html`<div class="bar" role="progressbar" aria-label=${label} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(value * 100)}>
    <span class="bar-fill" style=${{ width: `${(value * 100).toFixed(1)}%` }}></span>
  </div>`;
}

const SEND_LABEL: Readonly<Record<string, string>> = {
  waiting: 'Waiting for the receiver…',
  connected: 'Receiver connected',
  sending: 'Sending',
  done: 'Done: the receiver has everything, verified',
  failed: 'Failed',
  cancelled: 'Stopped',
};

async function copy(text: string, what: string) {
  try {
    await navigator.clipboard.writeText(text);
    notify(`${what} copied`);
  } catch {
    notify('Copy is not allowed here; select the text and copy it.', 'error');
  }
}

function SendCard({ first }: { first: SendStatus }) {
  const [s, setStatus] = useJob(`/api/send/${first.id}`, first, (x) => SEND_RUNNING.has(x.state));
  const isRunning = SEND_RUNNING.has(s.state);
  const sent = s.totalBytes > 0 ? Math.min(1, s.uploadedBytes / s.totalBytes) : 0;
  const stop = () =>
    api.del<SendStatus>(`/api/send/${s.id}`).then(setStatus, (err) => notify(messageOf(err), 'error'));
  return html`<div class="share-result handoff-send" id="send-result" data-state=${s.state}>
    <h2>Sending ${s.name} <span class="muted">(${s.fileCount} file${s.fileCount === 1 ? '' : 's'}, ${formatBytes(s.totalBytes)})</span></h2>
    <div class="share-grid">
      ${isRunning ? html`<${QrCode} text=${s.code} label=${`QR code of the code ${s.code}`} />` : null}
      <div class="stack">
        <p>Give the receiver this code:</p>
        <p class="handoff-code" id="send-code" aria-live="polite">${s.code}</p>
        <p class="muted">They run <code>peerdrop receive ${s.code}</code>, or type it into the Receive box of their peerdrop page.</p>
        <div class="actions">
          <button type="button" class="btn primary" onClick=${() => copy(s.code, 'Code')}>Copy code</button>
          ${isRunning ? html`<button type="button" class="btn danger" id="send-stop" onClick=${stop}>Stop</button>` : null}
        </div>
        <p class=${s.state === 'done' ? 'ok' : s.state === 'failed' ? 'error' : ''} id="send-state" role="status">${SEND_LABEL[s.state] ?? s.state}</p>
        ${s.error && s.state !== 'cancelled' ? html`<p class="error" role="alert" id="send-error">${s.error.message}</p>` : null}
        ${
          s.state === 'sending' || s.state === 'connected' || s.state === 'done'
            ? html`<div class="row-progress"><${Bar} value=${s.state === 'done' ? 1 : sent} label="Sent" /><span class="pct">${formatPercent(s.state === 'done' ? 1 : sent)}</span></div>
                <p class="muted">${formatBytes(s.uploadedBytes)} sent · ${formatRate(s.uploadRate)}</p>`
            : null
        }
        ${s.failedAttempts > 0 && s.state !== 'failed' ? html`<p class="warn">Someone tried a wrong code ${s.failedAttempts}×.</p>` : null}
        ${s.findings.length > 0 ? html`<p class="warn">Sent although these looked private:</p><${Findings} findings=${s.findings} />` : null}
      </div>
    </div>
  </div>`;
}

function SendSection() {
  const [sends, setSends] = useState<SendStatus[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState<{ path: string; findings: readonly SendFinding[] } | null>(null);
  useEffect(() => {
    api.get<{ sends: SendStatus[] }>('/api/send').then(
      (r) => setSends(r.sends.filter((s) => SEND_RUNNING.has(s.state)).reverse()),
      () => {},
    );
  }, []);
  const send = async (path: string, includeSensitive: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const s = await api.post<SendStatus>('/api/send', { paths: [path], includeSensitive });
      setSends((list) => [s, ...list]);
      setPending(null);
    } catch (err) {
      const body = err instanceof ApiError ? (err.body as { findings?: SendFinding[] } | null) : null;
      if (err instanceof ApiError && err.code === 'SEND_SENSITIVE' && body?.findings)
        setPending({ path, findings: body.findings });
      else setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="panel" aria-labelledby="send-title">
    <h1 id="send-title">Send to someone</h1>
    <p class="muted">Pick a file or folder of the download folder. You get a short code; whoever types it gets the files, end-to-end encrypted, on this network or across the internet.</p>
    ${busy ? html`<p class="muted" role="status">Preparing (hashing the files)…</p>` : null}
    ${error ? html`<p class="error" role="alert" id="send-error-start">${error}</p>` : null}
    ${
      pending
        ? html`<${PrivateWarning}
            id="send-findings"
            findings=${pending.findings}
            who="The receiver"
            verb="send"
            busy=${busy}
            onConfirm=${() => send(pending.path, true)}
            onCancel=${() => setPending(null)}
          />`
        : null
    }
    ${sends.map((s) => html`<${SendCard} key=${s.id} first=${s} />`)}
    <h2>Download folder</h2>
    <${Browser} onPick=${(p: string) => void send(p, false)} action="Send" />
  </section>`;
}

function OfferBox({
  offer,
  onAnswer,
  busy,
}: {
  offer: OfferView;
  onAnswer: (a: boolean) => void;
  busy: boolean;
}) {
  const shown = offer.files.slice(0, 50);
  return html`<div class="offer" id="receive-offer">
    <h3>${offer.name}</h3>
    <p><strong>${offer.fileCount} file${offer.fileCount === 1 ? '' : 's'}</strong>, ${formatBytes(offer.totalBytes)}</p>
    ${
      offer.isSingleFile
        ? null
        : html`<ul class="offer-files">
            ${shown.map((f) => html`<li key=${f.path}><span class="file-path">${f.path}</span> <span class="muted">${formatBytes(f.lengthBytes)}</span></li>`)}
            ${offer.fileCount > shown.length ? html`<li class="muted">… and ${offer.fileCount - shown.length} more</li>` : null}
          </ul>`
    }
    ${
      offer.warnings.length > 0
        ? html`<div class="caution" id="offer-warnings" role="alert">
            <p><strong>Careful:</strong> some names look disguised.</p>
            <ul class="findings">${offer.warnings.map((w) => html`<li><code>${w.path}</code> <span class="muted">${w.message}</span></li>`)}</ul>
          </div>`
        : null
    }
    <p class="muted">It goes to <code>${offer.destinationPath}</code>.</p>
    ${offer.isDestinationTaken ? html`<p class="warn" id="offer-taken">Something named ${offer.name} is already there: the same files continue where they stopped, anything else in its place is replaced.</p>` : null}
    <div class="actions">
      <button type="button" class="btn primary" id="receive-accept" disabled=${busy} onClick=${() => onAnswer(true)}>Accept and receive</button>
      <button type="button" class="btn" id="receive-decline" disabled=${busy} onClick=${() => onAnswer(false)}>Decline</button>
    </div>
  </div>`;
}

function ReceiveCard({ first }: { first: ReceiveStatus }) {
  const [r, setStatus] = useJob(`/api/receive/${first.id}`, first, (x) => RECEIVE_RUNNING.has(x.state));
  const [busy, setBusy] = useState(false);
  const answer = async (isAccepted: boolean) => {
    setBusy(true);
    try {
      setStatus(await api.post<ReceiveStatus>(`/api/receive/${r.id}/${isAccepted ? 'accept' : 'decline'}`));
    } catch (err) {
      notify(messageOf(err), 'error');
    } finally {
      setBusy(false);
    }
  };
  const stop = () =>
    api.del<ReceiveStatus>(`/api/receive/${r.id}`).then(setStatus, (err) => notify(messageOf(err), 'error'));
  return html`<div class="share-result" id="receive-result" data-state=${r.state}>
    <h2>Code <code>${r.code}</code></h2>
    ${r.state === 'finding' ? html`<p role="status">Looking for the sender…</p>` : null}
    ${r.state === 'offer' && r.offer ? html`<${OfferBox} offer=${r.offer} onAnswer=${answer} busy=${busy} />` : null}
    ${
      r.state === 'receiving' || r.state === 'done'
        ? html`<p>${r.offer?.name ?? ''}</p>
            <div class="row-progress"><${Bar} value=${r.progress} label="Received" /><span class="pct" id="receive-pct">${formatPercent(r.progress)}</span></div>
            <p class="muted">${formatBytes(r.verifiedBytes)} of ${formatBytes(r.offer?.totalBytes ?? 0)} verified · ${formatRate(r.downloadRate)}</p>`
        : null
    }
    ${r.state === 'done' && r.offer ? html`<p class="ok" id="receive-done" role="status">Received and verified. The files are in <code>${r.offer.destinationPath}</code>.</p>` : null}
    ${r.state === 'failed' && r.error ? html`<p class="error" role="alert" id="receive-error">${r.error.message}</p>` : null}
    ${r.state === 'declined' ? html`<p class="muted" role="status">Declined: nothing was written.</p>` : null}
    ${r.state === 'cancelled' ? html`<p class="muted" role="status">Stopped. Receive the same code again to continue.</p>` : null}
    ${r.state === 'finding' || r.state === 'receiving' ? html`<div class="actions"><button type="button" class="btn" onClick=${stop}>Stop</button></div>` : null}
  </div>`;
}

function ReceiveSection() {
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [job, setJob] = useState<ReceiveStatus | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      setJob(await api.post<ReceiveStatus>('/api/receive', { code: code.trim() }));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="panel" aria-labelledby="receive-title">
    <h1 id="receive-title">Receive</h1>
    <p class="muted">Type the code the sender gave you. You see what is offered before anything is written.</p>
    <form class="inline-form" onSubmit=${submit}>
      <input
        id="receive-code"
        type="text"
        inputmode="text"
        autocomplete="off"
        autocapitalize="none"
        spellcheck=${false}
        placeholder="7-guitar-orbit"
        aria-label="Code from the sender"
        value=${code}
        onInput=${(e: Event) => setCode((e.target as HTMLInputElement).value)}
      />
      <button class="btn primary" type="submit" disabled=${busy || !code.trim()}>${busy ? 'Looking…' : 'Receive'}</button>
    </form>
    ${error ? html`<p class="error" role="alert" id="receive-error-start">${error}</p>` : null}
    ${job ? html`<${ReceiveCard} key=${job.id} first=${job} />` : null}
  </section>`;
}

export function HandoffView() {
  return html`<div class="handoff">
    <${ReceiveSection} />
    <${SendSection} />
  </div>`;
}
