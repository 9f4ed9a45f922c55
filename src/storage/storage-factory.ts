/**
 * The storage seam of a session: how a torrent's data and its fast-resume record are opened.
 * The session asks a `StorageFactory`; the filesystem (`fsStorageFactory`) is the default and
 * the memory backend (`memoryStorageFactory`, with a modelled disk latency) serves simulations,
 * so a whole swarm of sessions runs in one process without touching the disk.
 */
import type { HashPool } from './hash-pool.js';
import type { FilePriority, Storage, StorageLayout } from './storage.js';

export interface OpenStorageRequest {
  /** The torrent's download folder (every file path resolves inside it). */
  readonly dir: string;
  /** Hex wire info-hash: names the torrent's state records. */
  readonly key: string;
  readonly priorities: readonly FilePriority[];
  readonly hashPool: HashPool;
  /** Where the fast-resume record lives, when the user chose (fs backends only). */
  readonly resumePath?: string;
}

export interface StorageFactory {
  /** Short name for logs (`fs`, `memory`). */
  readonly name: string;
  /** Open (creating what is needed) one torrent's data. */
  open(layout: StorageLayout, request: OpenStorageRequest): Promise<Storage>;
  /** The torrent's fast-resume record as saved, or null when there is none (or it is unreadable). */
  loadResume(
    request: OpenStorageRequest,
  ): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; reason: string }>;
  /** Replace the fast-resume record atomically (readers see the old or the new one). */
  saveResume(request: OpenStorageRequest, bytes: Uint8Array): Promise<void>;
}
