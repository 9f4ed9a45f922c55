/**
 * "Why is this not downloading?": what the page can tell from the torrent's status, its peers,
 * its peer sources and the settings. The daemon's own diagnosis (GET /api/torrents/:id/diagnosis,
 * when it has that route) is shown first; these are derived alongside it.
 */
import type { FileView, PeerInfo, PeerSourceStatus, Settings, TorrentView } from './api-types.js';
import { formatRate } from './format.js';

export type Severity = 'ok' | 'info' | 'warn' | 'problem';

export interface Reason {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
}

export interface DiagnosisInput {
  readonly torrent: TorrentView;
  readonly peers: readonly PeerInfo[] | null;
  readonly sources: readonly PeerSourceStatus[] | null;
  readonly files: readonly FileView[] | null;
  readonly settings: Settings | null;
  readonly peerPort: number | null;
}

function stateReasons(t: TorrentView, files: DiagnosisInput['files']): Reason[] | null {
  if (t.state === 'paused' || t.state === 'stopped')
    return [
      { code: 'PAUSED', severity: 'problem', message: 'The torrent is paused. Resume it to download.' },
    ];
  if (t.state === 'error')
    return [
      {
        code: 'ERROR',
        severity: 'problem',
        message: `The torrent stopped with an error: ${t.error ?? 'unknown'}`,
      },
    ];
  if (t.state === 'checking')
    return [
      {
        code: 'CHECKING',
        severity: 'info',
        message: 'Checking the data already on disk; downloading starts after.',
      },
    ];
  if (t.state === 'seeding' || t.progress >= 1)
    return [
      {
        code: 'COMPLETE',
        severity: 'ok',
        message: 'Everything wanted is downloaded and verified; it is seeding.',
      },
    ];
  if (files && files.length > 0 && files.every((f) => f.priority === 0))
    return [
      {
        code: 'ALL_SKIPPED',
        severity: 'problem',
        message: 'Every file is set to skip: choose files to download.',
      },
    ];
  return null;
}

function sourceReasons(t: TorrentView, sources: DiagnosisInput['sources']): Reason[] {
  const out: Reason[] = [];
  const list = sources ?? [];
  const names = new Set([...(t.sources ?? []), ...list.map((s) => s.source)]);
  for (const s of list)
    if (s.status === 'error')
      out.push({
        code: 'TRACKER_ERROR',
        severity: 'warn',
        message: `${s.name}: ${s.message ?? 'failed'}`,
      });
  const working = list.filter((s) => s.status === 'ok' || s.status === 'working');
  if (names.size === 0 && list.length === 0)
    out.push({
      code: 'NO_SOURCES',
      severity: 'problem',
      message:
        'No peer source: the torrent has no trackers and no DHT runs for it. Add a magnet link with a tracker or a peer (x.pe).',
    });
  else
    out.push({
      code: 'SOURCES',
      severity: working.length > 0 || t.peers > 0 ? 'info' : 'warn',
      message: `Peer sources tried: ${[...names].join(', ') || list.map((s) => s.name).join(', ')}; ${
        t.knownPeers ?? list.reduce((n, s) => n + s.peers, 0)
      } peer addresses heard of.`,
    });
  return out;
}

function peerReasons(t: TorrentView, peers: readonly PeerInfo[]): Reason[] {
  if (peers.length === 0)
    return [
      {
        code: 'NO_PEERS',
        severity: 'problem',
        message:
          t.state === 'metadata'
            ? 'No peer is connected, so the file list (metadata) cannot be fetched yet.'
            : 'No peer is connected. Peers come from trackers, the DHT and peers that connect to us.',
      },
    ];
  const out: Reason[] = [];
  const haveAll = peers.filter((p) => p.progress >= 1);
  if (haveAll.length === 0 && t.seeds === 0)
    out.push({
      code: 'NO_SEEDS',
      severity: 'warn',
      message: `None of the ${peers.length} connected peers has the whole torrent; parts may be missing from the swarm.`,
    });
  const interesting = peers.filter((p) => p.amInterested);
  if (interesting.length === 0)
    out.push({
      code: 'NOTHING_TO_GET',
      severity: 'warn',
      message: 'The connected peers have nothing we still need.',
    });
  else if (interesting.every((p) => p.peerChoking))
    out.push({
      code: 'ALL_CHOKING',
      severity: 'problem',
      message: `Every peer that has what we need is choking us (${interesting.length}); they unchoke in turns, usually within 10–30 s.`,
    });
  if (t.downloadRate > 0)
    out.push({
      code: 'MOVING',
      severity: 'ok',
      message: `Downloading at ${formatRate(t.downloadRate)} from ${peers.length} peers.`,
    });
  return out;
}

function portReasons(peers: readonly PeerInfo[] | null, peerPort: number | null): Reason[] {
  if (peerPort === null) return [];
  const incoming = (peers ?? []).filter((p) => p.isIncoming).length;
  return [
    incoming > 0
      ? {
          code: 'PORT_REACHABLE',
          severity: 'ok',
          message: `Peers reach us on port ${peerPort} (${incoming} connected in).`,
        }
      : {
          code: 'PORT_UNKNOWN',
          severity: 'info',
          message: `No peer has connected in on port ${peerPort} yet. If this stays so, the port may be closed by a router or firewall; peers we dial still work.`,
        },
  ];
}

export function diagnose(input: DiagnosisInput): Reason[] {
  const { torrent: t } = input;
  const fromState = stateReasons(t, input.files);
  if (fromState) return fromState;
  const out = [...sourceReasons(t, input.sources)];
  if (input.peers) out.push(...peerReasons(t, input.peers));
  out.push(...portReasons(input.peers, input.peerPort));
  const limit = input.settings?.globalDownloadBps ?? null;
  if (limit !== null && limit > 0)
    out.push({
      code: 'GLOBAL_LIMIT',
      severity: 'info',
      message: `A global download limit of ${formatRate(limit)} is set.`,
    });
  if (t.limits.downloadBps !== null)
    out.push({
      code: 'TORRENT_LIMIT',
      severity: 'info',
      message: `This torrent is limited to ${formatRate(t.limits.downloadBps)}.`,
    });
  return out;
}
