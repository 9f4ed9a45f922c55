/**
 * Messages between the hash pool (main thread) and its workers. Shared by `hash-pool.ts` and
 * `hash-worker.ts`; types only plus the block size, so the worker stays small.
 */

export type HashAlgorithm = 'sha1' | 'sha256';

/** `piece`: one digest per piece. `blocks`: SHA-256 of every 16 KiB block (BEP 52 leaves). */
export type HashMode = 'piece' | 'blocks';

/** A range whose `path` is this reads as zeros (BEP 47 padding files never touch disk). */
export const ZERO_FILL_PATH = '';

/** A byte range of a file on disk (or zeros, with `ZERO_FILL_PATH`). */
export interface FileRange {
  readonly path: string;
  readonly offset: number;
  readonly length: number;
}

export const DIGEST_BYTES: Readonly<Record<HashAlgorithm, number>> = { sha1: 20, sha256: 32 };

/** BEP 52: merkle leaves are SHA-256 digests of 16 KiB blocks. */
export const LEAF_BLOCK_BYTES = 16 * 1024;

export type WorkerRequest =
  | {
      readonly id: number;
      readonly kind: 'digest';
      readonly algorithm: HashAlgorithm;
      readonly data: Uint8Array;
    }
  | {
      readonly id: number;
      readonly kind: 'ranges';
      readonly algorithm: HashAlgorithm;
      readonly mode: HashMode;
      readonly pieces: readonly (readonly FileRange[])[];
      /** Mark pieces whose data is missing instead of failing the whole request. */
      readonly allowMissing: boolean;
    };

export interface WorkerErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly path?: string;
  readonly errno?: string;
}

export type WorkerResponse =
  | {
      readonly id: number;
      readonly ok: true;
      /** Digests back to back: one per piece, or (blocks mode) one per block of each piece. */
      readonly digests: Uint8Array;
      /** One byte per piece, 1 = data missing (only with `allowMissing`). */
      readonly missing: Uint8Array | null;
    }
  | { readonly id: number; readonly ok: false; readonly error: WorkerErrorInfo };
