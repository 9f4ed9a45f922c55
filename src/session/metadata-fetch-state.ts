/**
 * The vocabulary of the BEP 9 metadata fetcher: its public fault codes, options and progress,
 * and the per-peer / per-assembly state records with the tuning constants that bound them.
 * Split out of `metadata-fetcher.ts` so that file holds only the algorithm; this module has
 * no logic beyond two tiny helpers, and imports nothing from the fetcher (no cycle).
 */
import { createHash } from 'node:crypto';
import type { Metainfo } from '../metainfo/types.js';
import { MAX_METADATA_BYTES } from '../wire/limits.js';
import type { PeerChannel } from './peer-channel.js';

/** Why a peer was dropped (the `reason` of {@link MetadataFetcherOptions.onBadPeer}). */
export const MetadataFault = {
  /** Its metadata did not hash to the info-hash (its own assembly, or its pieces vs the confirmed metadata). */
  HashMismatch: 'METADATA_HASH_MISMATCH',
  /** A ut_metadata message that does not decode (bad bencode, a piece of the wrong length…). */
  BadMessage: 'METADATA_BAD_MESSAGE',
  /** `total_size` differs from its claimed `metadata_size`, or its claim differs from the confirmed size. */
  SizeMismatch: 'METADATA_SIZE_MISMATCH',
  /** Data for a piece we never requested from it. */
  Unrequested: 'METADATA_UNREQUESTED',
  /** Two different versions of the same piece. */
  Inconsistent: 'METADATA_INCONSISTENT',
} as const;
export type MetadataFaultCode = (typeof MetadataFault)[keyof typeof MetadataFault];

/** Stable code of {@link MetadataFetcherOptions.onWarning}: an assembly failed its hash check. */
export const METADATA_ASSEMBLY_FAILED = 'METADATA_ASSEMBLY_FAILED';

/** What the fetcher needs: the hashes to match, a clock, and where its results go. */
export interface MetadataFetcherOptions {
  readonly target: { readonly infoHash: Uint8Array | null; readonly infoHashV2: Uint8Array | null };
  /** Milliseconds (the session's clock). */
  readonly now: () => number;
  /** The confirmed info dictionary; called once, after every liar found was reported. */
  readonly onMetadata: (metainfo: Metainfo) => void;
  /** At most one per failed assembly. */
  readonly onWarning: (message: string, code: typeof METADATA_ASSEMBLY_FAILED) => void;
  /** The hash matched but the info dictionary is invalid: the torrent itself is bad. */
  readonly onFailed: (err: Error) => void;
  /** A peer proven to send bad metadata; the fetcher closes the channel right after. Ban it. */
  readonly onBadPeer: (channel: PeerChannel, reason: MetadataFaultCode, detail: string) => void;
}

/** For status display. */
export interface MetadataProgress {
  /** Size of the assembly furthest along (or the confirmed size); null before any. */
  readonly sizeBytes: number | null;
  readonly piecesHave: number;
  readonly piecesTotal: number;
  /** Connected peers offering metadata (not convicted). */
  readonly peers: number;
}

/** A metadata piece request unanswered this long goes to another peer. */
export const REQUEST_TIMEOUT_MS = 10_000;
/**
 * Metadata pieces requested from one peer at a time: 2 for the mixed assembly, so that even a
 * small info dictionary comes from several peers; 4 when the peer is the only source.
 */
export const MIXED_OUTSTANDING = 2;
export const SINGLE_OUTSTANDING = 4;
/** A mixed-assembly piece unanswered this long is also asked of another peer. */
export const ENDGAME_AFTER_MS = 2_000;
/** Timeouts in a row after which a peer rests. */
export const MAX_TIMEOUTS = 3;
/** How long a peer that rejected us or kept timing out is left alone. */
export const STALL_MS = 30_000;
/** Claimed bytes of all live assemblies together. */
export const ASSEMBLY_BUDGET_BYTES = 2 * MAX_METADATA_BYTES;
export const MAX_ASSEMBLIES = 8;
/** Peers offering metadata that we track; more are left unused. */
export const MAX_PEERS = 256;
/** Departed peers kept for their evidence (reported if the confirmed metadata convicts them). */
export const MAX_DEPARTED = 256;
/** Dialled addresses of convicted peers, refused if they come back on a new channel. */
export const MAX_REMEMBERED = 1024;

export type SizeMode = 'mixed' | 'isolate' | 'discarded';

export interface SizeClaim {
  readonly sizeBytes: number;
  readonly firstSeq: number;
  mode: SizeMode;
}

export interface Assembly {
  readonly claim: SizeClaim;
  readonly sizeBytes: number;
  /** The only source of a single-peer assembly; null for the mixed one. */
  readonly owner: Peer | null;
  readonly pieces: (Uint8Array | null)[];
  readonly sources: (Peer | null)[];
  /** Piece → the peer it is requested from. */
  readonly inflight: Map<number, Peer>;
  have: number;
  isDropped: boolean;
}

export interface Peer {
  readonly channel: PeerChannel;
  readonly claim: SizeClaim;
  /** Position in the isolation queue (moves to the back after a stall). */
  queueSeq: number;
  /** The one assembly this peer feeds, if any. */
  assembly: Assembly | null;
  /** Piece → requested at (ms). */
  readonly outstanding: Map<number, number>;
  /** Every piece ever requested from it, so a late answer is not "unrequested". */
  readonly asked: Set<number>;
  /** Piece → SHA-1 of the bytes it sent. */
  readonly evidence: Map<number, Uint8Array>;
  timeouts: number;
  stalledUntilMs: number;
  isGone: boolean;
  isBad: boolean;
}

export function sha1(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(data).digest());
}

export function addressOf(channel: PeerChannel): string {
  return `${channel.remoteHost}:${channel.remotePort}`;
}
