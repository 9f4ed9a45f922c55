/**
 * "Why is this not downloading": what the daemon knows about a torrent turned into reasons a
 * person can act on, each with a stable code for the UI and scripts. `TorrentActivity` keeps
 * the little history a snapshot cannot give (failed dials and why, peers ever connected,
 * recent warnings); `diagnose` is pure.
 */
import type { SessionWarning } from '../session/events.js';
import type { PeerSourceStatus } from '../session/peer-source.js';
import type { PeerEvent, PeerInfo, TorrentStatus } from '../session/torrent-types.js';

const MAX_WARNINGS = 20;
const MAX_REASONS = 12;

/** Bounded history of one torrent's peers and warnings (in memory; a restart starts afresh). */
export class TorrentActivity {
  connected = 0;
  failedDials = 0;
  banned = 0;
  readonly failReasons = new Map<string, number>();
  readonly warnings: SessionWarning[] = [];
  /** A connected peer ever had every piece. */
  hasSeenSeed = false;

  onPeer(event: PeerEvent): void {
    if (event.kind === 'connected') this.connected++;
    else if (event.kind === 'banned') this.banned++;
    else if (event.reason !== undefined) {
      this.failedDials++;
      const reason = event.reason.slice(0, 120);
      if (this.failReasons.has(reason) || this.failReasons.size < MAX_REASONS)
        this.failReasons.set(reason, (this.failReasons.get(reason) ?? 0) + 1);
    }
  }

  onWarning(w: SessionWarning): void {
    this.warnings.push(w);
    if (this.warnings.length > MAX_WARNINGS) this.warnings.shift();
  }
}

export type DiagnosisCode =
  | 'PAUSED'
  | 'QUEUED'
  | 'CHECKING'
  | 'COMPLETE'
  | 'ERROR'
  | 'NOT_RUNNING'
  | 'METADATA_PENDING'
  | 'NO_PEER_SOURCES'
  | 'TRACKER_ERRORS'
  | 'NO_PEERS_KNOWN'
  | 'PEERS_UNREACHABLE'
  | 'ALL_CHOKING'
  | 'NO_SEEDS'
  | 'PEERS_NOT_INTERESTING'
  | 'NOTHING_WANTED'
  | 'DISK_ERROR'
  | 'PORT_UNVERIFIED'
  | 'RATE_LIMITED'
  | 'DOWNLOADING';

export interface DiagnosisReason {
  readonly code: DiagnosisCode;
  readonly message: string;
}

export interface DiagnosisInput {
  readonly isQueued: boolean;
  readonly isUserPaused: boolean;
  readonly brokenError: string | null;
  readonly status: TorrentStatus | null;
  readonly peers: readonly PeerInfo[];
  readonly sources: readonly PeerSourceStatus[];
  readonly activity: TorrentActivity | null;
  readonly incomingHandshakes: number;
  readonly peerPort: number;
  readonly isRateLimited: boolean;
}

export interface Diagnosis {
  readonly state: string;
  readonly reasons: readonly DiagnosisReason[];
  readonly facts: {
    readonly knownPeers: number;
    readonly connectedPeers: number;
    readonly seedsConnected: number;
    readonly peersChokingUs: number;
    readonly connectAttemptsFailed: number;
    readonly connectFailures: readonly { readonly reason: string; readonly count: number }[];
    readonly peersEverConnected: number;
    readonly peersBanned: number;
    readonly incomingConnectionsAccepted: number;
    readonly peerPort: number;
    readonly sources: readonly PeerSourceStatus[];
    readonly recentWarnings: readonly SessionWarning[];
  };
}

const r = (code: DiagnosisCode, message: string): DiagnosisReason => ({ code, message });

export function diagnose(input: DiagnosisInput): Diagnosis {
  const { status, peers, activity } = input;
  const seeds = peers.filter((p) => p.progress >= 1).length;
  const choking = peers.filter((p) => p.peerChoking).length;
  const facts: Diagnosis['facts'] = {
    knownPeers: status?.knownPeers ?? 0,
    connectedPeers: peers.length,
    seedsConnected: seeds,
    peersChokingUs: choking,
    connectAttemptsFailed: activity?.failedDials ?? 0,
    connectFailures: [...(activity?.failReasons ?? [])]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count),
    peersEverConnected: activity?.connected ?? 0,
    peersBanned: activity?.banned ?? 0,
    incomingConnectionsAccepted: input.incomingHandshakes,
    peerPort: input.peerPort,
    sources: input.sources,
    recentWarnings: activity?.warnings ?? [],
  };
  const reasons = reasonsFor(input, seeds, choking);
  const state = input.isQueued ? 'queued' : (status?.state ?? (input.brokenError ? 'error' : 'stopped'));
  return { state, reasons, facts };
}

function reasonsFor(input: DiagnosisInput, seeds: number, choking: number): DiagnosisReason[] {
  const { status, peers, activity, sources } = input;
  if (input.brokenError !== null)
    return [r('NOT_RUNNING', `The torrent could not start: ${input.brokenError}`)];
  if (!status) return [r('NOT_RUNNING', 'The torrent is not running.')];
  const out: DiagnosisReason[] = [];
  const diskWarnings = activity?.warnings.filter((w) => w.code === 'RESUME_SAVE_FAILED') ?? [];
  if (status.state === 'error' || status.error)
    out.push(
      r(
        /disk|ENOSPC|EACCES|EROFS|EIO|storage/i.test(status.error ?? '') ? 'DISK_ERROR' : 'ERROR',
        `The torrent stopped with an error: ${status.error ?? 'unknown'}`,
      ),
    );
  else if (diskWarnings.length > 0)
    out.push(r('DISK_ERROR', `Writing to disk failed: ${diskWarnings.at(-1)!.message}`));
  if (input.isUserPaused) return [...out, r('PAUSED', 'You paused this torrent. Resume it to download.')];
  if (input.isQueued)
    return [...out, r('QUEUED', 'Waiting in the queue: the maximum number of active torrents is running.')];
  if (status.state === 'checking') return [...out, r('CHECKING', 'Checking the data already on disk.')];
  if (status.state === 'seeding') return [...out, r('COMPLETE', 'Everything wanted is downloaded; seeding.')];
  if (status.wantedBytes === 0 && status.state === 'downloading')
    out.push(r('NOTHING_WANTED', 'Every file is skipped (priority 0): nothing to download.'));
  if (status.state === 'metadata')
    out.push(r('METADATA_PENDING', 'A magnet link: waiting for a peer to send the file list.'));
  const working = sources.filter((s) => s.status !== 'stopped');
  if (working.length === 0 && (status.knownPeers ?? 0) === 0)
    out.push(r('NO_PEER_SOURCES', 'No trackers, DHT or other peer source: add a tracker or a peer.'));
  const failing = sources.filter((s) => s.status === 'error');
  if (failing.length > 0 && failing.length === sources.length)
    out.push(
      r(
        'TRACKER_ERRORS',
        `Every tracker failed: ${failing.map((s) => `${s.name}: ${s.message ?? 'error'}`).join('; ')}`,
      ),
    );
  else if (failing.length > 0)
    out.push(r('TRACKER_ERRORS', `${failing.length} of ${sources.length} peer sources failed.`));
  if (peers.length === 0) {
    if ((status.knownPeers ?? 0) === 0) out.push(r('NO_PEERS_KNOWN', 'No peers found yet.'));
    else if ((activity?.failedDials ?? 0) > 0)
      out.push(r('PEERS_UNREACHABLE', `${status.knownPeers} peers known, but connections to them failed.`));
  } else {
    if (choking === peers.length)
      out.push(r('ALL_CHOKING', `All ${peers.length} connected peers are choking us (not sending).`));
    if (seeds === 0 && !(activity?.hasSeenSeed ?? false))
      out.push(r('NO_SEEDS', 'No connected peer has the whole torrent.'));
    if (peers.every((p) => !p.amInterested))
      out.push(r('PEERS_NOT_INTERESTING', 'The connected peers have none of the pieces we still need.'));
  }
  if (input.incomingHandshakes === 0)
    out.push(
      r(
        'PORT_UNVERIFIED',
        `No peer has connected to us yet: port ${input.peerPort} may not be reachable from outside (firewall or router).`,
      ),
    );
  if (input.isRateLimited)
    out.push(r('RATE_LIMITED', 'A download limit is set (global, alternative speed or this torrent).'));
  if (out.length === 0 || (status.downloadRate > 0 && out.every((x) => x.code === 'PORT_UNVERIFIED')))
    out.unshift(r('DOWNLOADING', 'Downloading.'));
  return out;
}
