import type { HttpGuardStats } from '../../net/http-guard.js';
import type { AnnounceEvent } from '../protocol/announce.js';
import type { RejectReason, SwarmTotals } from './swarm-types.js';

/**
 * Counters shared by both transports, rendered as `/stats` JSON and `/metrics` Prometheus text
 * (exposition format 0.0.4). Plain numbers in fixed objects: incrementing is a property write.
 */
export type TrackerProtocol = 'http' | 'udp';

const EVENTS: readonly AnnounceEvent[] = ['none', 'started', 'completed', 'stopped'];
const REASONS: readonly RejectReason[] = [
  'bad-request',
  'not-allowed',
  'unknown-passkey',
  'key-mismatch',
  'rate-limited',
  'bad-connection-id',
  'full-scrape',
  'torrent-limit',
];

type Counts<K extends string> = Record<K, number>;

function zeros<K extends string>(keys: readonly K[]): Counts<K> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Counts<K>;
}

export interface StatsSnapshot {
  readonly uptimeSeconds: number;
  readonly torrents: number;
  readonly peers: number;
  readonly seeders: number;
  readonly leechers: number;
  readonly evictions: number;
  readonly announces: Readonly<Record<TrackerProtocol, Readonly<Counts<AnnounceEvent>>>>;
  readonly scrapes: Readonly<Record<TrackerProtocol, number>>;
  readonly connects: number;
  readonly rejects: Readonly<Record<TrackerProtocol, Readonly<Counts<RejectReason>>>>;
  readonly memory?: { readonly rssBytes: number; readonly heapUsedBytes: number };
  /** The HTTP transport's connection guard (absent without HTTP). */
  readonly http?: HttpGuardStats;
}

export class TrackerMetrics {
  readonly announces = { http: zeros(EVENTS), udp: zeros(EVENTS) };
  readonly scrapes = { http: 0, udp: 0 };
  readonly rejects = { http: zeros(REASONS), udp: zeros(REASONS) };
  connects = 0;

  constructor(private readonly startedMs: number) {}

  announce(protocol: TrackerProtocol, event: AnnounceEvent): void {
    this.announces[protocol][event]++;
  }

  reject(protocol: TrackerProtocol, reason: RejectReason): void {
    this.rejects[protocol][reason]++;
  }

  snapshot(
    nowMs: number,
    totals: SwarmTotals,
    evictions: number,
    memory?: StatsSnapshot['memory'],
    http?: HttpGuardStats,
  ): StatsSnapshot {
    return {
      uptimeSeconds: Math.max(0, Math.round((nowMs - this.startedMs) / 1000)),
      ...totals,
      evictions,
      announces: { http: { ...this.announces.http }, udp: { ...this.announces.udp } },
      scrapes: { ...this.scrapes },
      connects: this.connects,
      rejects: { http: { ...this.rejects.http }, udp: { ...this.rejects.udp } },
      ...(memory === undefined ? {} : { memory }),
      ...(http === undefined ? {} : { http }),
    };
  }
}

/** Prometheus text exposition of a snapshot. */
export function renderPrometheus(s: StatsSnapshot): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, rows: Array<[string, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) lines.push(`${name}${labels} ${value}`);
  };
  const protocols: TrackerProtocol[] = ['http', 'udp'];
  metric(
    'peerdrop_tracker_announces_total',
    'counter',
    'Announces answered, by protocol and event.',
    protocols.flatMap((p) =>
      EVENTS.map((e): [string, number] => [`{protocol="${p}",event="${e}"}`, s.announces[p][e]]),
    ),
  );
  metric(
    'peerdrop_tracker_scrapes_total',
    'counter',
    'Scrapes answered, by protocol.',
    protocols.map((p) => [`{protocol="${p}"}`, s.scrapes[p]]),
  );
  metric('peerdrop_tracker_udp_connects_total', 'counter', 'BEP 15 connect requests answered.', [
    ['', s.connects],
  ]);
  metric(
    'peerdrop_tracker_rejects_total',
    'counter',
    'Requests refused, by protocol and reason.',
    protocols.flatMap((p) =>
      REASONS.map((r): [string, number] => [`{protocol="${p}",reason="${r}"}`, s.rejects[p][r]]),
    ),
  );
  metric('peerdrop_tracker_torrents', 'gauge', 'Torrents tracked.', [['', s.torrents]]);
  metric('peerdrop_tracker_peers', 'gauge', 'Peers tracked (IPv4 and IPv6 entries).', [['', s.peers]]);
  metric('peerdrop_tracker_seeders', 'gauge', 'Seeders tracked.', [['', s.seeders]]);
  metric('peerdrop_tracker_leechers', 'gauge', 'Leechers tracked.', [['', s.leechers]]);
  metric('peerdrop_tracker_evictions_total', 'counter', 'Peers evicted to honour memory caps.', [
    ['', s.evictions],
  ]);
  metric('peerdrop_tracker_uptime_seconds', 'gauge', 'Seconds since the tracker started.', [
    ['', s.uptimeSeconds],
  ]);
  if (s.memory) {
    metric('peerdrop_tracker_resident_memory_bytes', 'gauge', 'Resident set size.', [
      ['', s.memory.rssBytes],
    ]);
    metric('peerdrop_tracker_heap_used_bytes', 'gauge', 'V8 heap in use.', [['', s.memory.heapUsedBytes]]);
  }
  if (s.http) {
    const h = s.http;
    metric('peerdrop_tracker_http_connections', 'gauge', 'HTTP connections open.', [['', h.connections]]);
    metric(
      'peerdrop_tracker_http_refused_total',
      'counter',
      'HTTP connections refused or closed by the guard.',
      [
        ['{reason="per-address"}', h.refusedPerAddress],
        ['{reason="total"}', h.refusedTotal],
        ['{reason="evicted-idle"}', h.evictedIdle],
        ['{reason="idle"}', h.closedIdle],
        ['{reason="lingering"}', h.closedLingering],
      ],
    );
  }
  return `${lines.join('\n')}\n`;
}
