/** The "why is this not downloading?" panel: the daemon's diagnosis when it has one, and ours. */
import { useEffect, useState } from 'preact/hooks';
import { hasRoute, torrentPath } from '../api.js';
import type {
  Diagnosis,
  FileView,
  PeerInfo,
  PeerSourceStatus,
  SessionStats,
  Settings,
  TorrentView,
} from '../api-types.js';
import { diagnose, type Reason } from '../diagnosis.js';
import { html } from '../html.js';
import { usePoll } from '../poll.js';

const ICON: Readonly<Record<string, string>> = { ok: '✓', info: 'i', warn: '!', problem: '✕' };

function ReasonList({ reasons }: { reasons: readonly Reason[] }) {
  return html`<ul class="reasons">
    ${reasons.map(
      (r) => html`<li class=${`reason ${r.severity}`} data-code=${r.code}>
        <span class="reason-icon" aria-hidden="true">${ICON[r.severity] ?? 'i'}</span>
        <span>${r.message}</span>
      </li>`,
    )}
  </ul>`;
}

/** How the daemon's reason codes (src/daemon/diagnosis.ts) are shown. */
const SEVERITY: Readonly<Record<string, Reason['severity']>> = {
  COMPLETE: 'ok',
  DOWNLOADING: 'ok',
  CHECKING: 'info',
  QUEUED: 'info',
  METADATA_PENDING: 'info',
  PORT_UNVERIFIED: 'info',
  RATE_LIMITED: 'info',
  TRACKER_ERRORS: 'warn',
  NO_SEEDS: 'warn',
  PEERS_NOT_INTERESTING: 'warn',
  ALL_CHOKING: 'warn',
  PEERS_UNREACHABLE: 'warn',
};

function severityOf(code: string, given: string | undefined): Reason['severity'] {
  if (given === 'ok' || given === 'info' || given === 'warn' || given === 'problem') return given;
  return SEVERITY[code] ?? 'problem';
}

function Facts({ facts }: { facts: Record<string, unknown> }) {
  const shown = Object.entries(facts).filter(([, v]) => typeof v === 'number');
  if (shown.length === 0) return null;
  const label = (k: string) => k.replace(/([A-Z])/g, ' $1').toLowerCase();
  return html`<dl class="facts diag-facts">
    ${shown.map(([k, v]) => html`<div key=${k}><dt>${label(k)}</dt><dd>${String(v)}</dd></div>`)}
  </dl>`;
}

export function DiagnosisPanel({ t }: { t: TorrentView }) {
  const [hasDiagnosis, setHasDiagnosis] = useState(false);
  useEffect(() => {
    void hasRoute('/api/torrents/{id}/diagnosis').then(setHasDiagnosis);
  }, []);
  const [server] = usePoll<Diagnosis>(hasDiagnosis ? torrentPath(t.infoHash, '/diagnosis') : null, 3000);
  const [peers] = usePoll<{ peers: PeerInfo[] }>(torrentPath(t.infoHash, '/peers'), 3000);
  const [sources] = usePoll<{ trackers: PeerSourceStatus[] }>(torrentPath(t.infoHash, '/trackers'), 3000);
  const [files] = usePoll<{ files: FileView[] | null }>(torrentPath(t.infoHash, '/files'), 10_000);
  const [settings] = usePoll<Settings>('/api/settings', 0);
  const [session] = usePoll<SessionStats>('/api/session', 0);
  const derived = diagnose({
    torrent: t,
    peers: peers?.peers ?? null,
    sources: sources?.trackers ?? null,
    files: files?.files ?? null,
    settings,
    peerPort: session?.peerPort ?? null,
  });
  // The daemon knows more (failed dials, incoming handshakes, queue): its reasons win when it has them.
  const fromDaemon: Reason[] = Array.isArray(server?.reasons)
    ? server.reasons.map((r) => ({
        code: r.code,
        severity: severityOf(r.code, r.severity),
        message: r.message,
      }))
    : [];
  const facts =
    server && typeof server.facts === 'object' && server.facts
      ? (server.facts as Record<string, unknown>)
      : null;
  return html`<div class="diagnosis" id="diagnosis">
    <p class="muted">What peerdrop sees right now, most important first. It updates every few seconds.</p>
    <${ReasonList} reasons=${fromDaemon.length > 0 ? fromDaemon : derived} />
    ${facts ? html`<${Facts} facts=${facts} />` : null}
  </div>`;
}
