/**
 * BEP 14 on real sockets: the `LsdCore` with one multicast socket per address family and one
 * timer on the injected scheduler. A family whose socket cannot be opened (no IPv6, no multicast
 * route) is left out and reported; the other keeps working.
 */
import {
  LSD_GROUP_V4,
  LSD_GROUP_V6,
  type MulticastGroup,
  type MulticastSocket,
  openMulticast,
} from '../net/multicast.js';
import type { CancelTimer, Scheduler } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { LsdCore as Core, type LsdCore, type LsdFamily, type LsdStats } from './lsd.js';

export interface LsdServiceOptions {
  readonly scheduler: Scheduler;
  /** Random bytes for the cookie that marks our own announces. */
  readonly randomBytes: (n: number) => Uint8Array;
  /** Interfaces to join on and announce from (names or addresses); default all that are up. */
  readonly interfaces?: readonly string[];
  /** Default both. */
  readonly families?: readonly LsdFamily[];
  /** Receive our own datagrams (tests on one host); the cookie still filters them. */
  readonly loopback?: boolean;
  /** Other groups (tests use a private port so a real LSD client on the host does not answer). */
  readonly groups?: Partial<Record<LsdFamily, MulticastGroup>>;
  readonly announceIntervalMs?: number;
}

type PeerListener = (peer: { host: string; port: number }) => void;

export interface LsdService {
  /** Announce `infoHash` (40 hex) with our listen port and report peers that announce it. */
  register(infoHash: string, port: () => number, onPeer: PeerListener): () => void;
  /** Families with a working socket, and why the others failed. */
  readonly families: readonly LsdFamily[];
  readonly problems: readonly string[];
  readonly stats: LsdStats;
  close(): Promise<void>;
}

export async function startLsd(options: LsdServiceOptions): Promise<LsdService> {
  const wanted = options.families ?? ['IPv4', 'IPv6'];
  const sockets = new Map<LsdFamily, MulticastSocket>();
  const problems: string[] = [];
  for (const family of wanted) {
    const group = options.groups?.[family] ?? (family === 'IPv4' ? LSD_GROUP_V4 : LSD_GROUP_V6);
    try {
      sockets.set(
        family,
        await openMulticast({
          group,
          ...(options.interfaces ? { interfaces: options.interfaces } : {}),
          ...(options.loopback ? { loopback: true } : {}),
        }),
      );
    } catch (err) {
      problems.push(`${family}: ${errorMessage(err)}`);
    }
  }
  const cookie = [...options.randomBytes(6)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const listeners = new Map<string, Set<PeerListener>>();
  const core: LsdCore = new Core({
    now: () => options.scheduler.now(),
    cookie,
    families: [...sockets.keys()],
    send: (family, bytes) => void sockets.get(family)?.send(bytes),
    onPeer: (ih, peer) => {
      for (const l of listeners.get(ih) ?? []) l(peer);
    },
    ...(options.announceIntervalMs === undefined ? {} : { announceIntervalMs: options.announceIntervalMs }),
  });

  let cancel: CancelTimer | null = null;
  let closed = false;
  // One timer, always set for the earliest due announce.
  const pump = (): void => {
    cancel?.();
    cancel = null;
    if (closed) return;
    const wait = core.upkeep();
    if (wait !== null) cancel = options.scheduler.setTimer(Math.max(wait, 0), pump);
  };
  for (const [family, socket] of sockets) {
    socket.onError(() => {
      // Send failures (an interface went away) are not fatal; the next announce tries again.
    });
    socket.onMessage((bytes, from) => {
      core.handleMessage(bytes, { host: from.host, port: from.port, family });
      pump();
    });
  }

  return {
    families: [...sockets.keys()],
    problems,
    stats: core.stats,
    register(infoHash, port, onPeer) {
      const key = infoHash.toLowerCase();
      let set = listeners.get(key);
      if (set === undefined) {
        set = new Set();
        listeners.set(key, set);
        core.add(key, port);
      }
      set.add(onPeer);
      pump();
      return () => {
        set.delete(onPeer);
        if (set.size === 0) {
          listeners.delete(key);
          core.remove(key);
        }
      };
    },
    async close() {
      closed = true;
      cancel?.();
      await Promise.all([...sockets.values()].map((s) => s.close()));
    },
  };
}
