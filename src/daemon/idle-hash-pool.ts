/**
 * The daemon's hash workers, started when a check or a download needs them and stopped after a
 * minute without work. A daemon seeding for days would otherwise keep the threads (measured:
 * ~12.7 MB of RSS for the default two) although seeding hashes nothing. The engine takes it as
 * its `hashPool`; nothing else changes for it.
 */
import type {
  HashAlgorithm,
  HashPiecesJob,
  HashPool,
  LentDigest,
  PieceDigest,
} from '../storage/hash-pool.js';
import type { CancelTimer, Scheduler } from '../util/clock.js';
import { PeerdropError } from '../util/errors.js';

/** Workers idle this long are stopped (a new job starts them again). */
export const HASH_POOL_IDLE_MS = 60_000;

export class IdleHashPool implements HashPool {
  private pool: HashPool | null = null;
  private busy = 0;
  private cancelIdle: CancelTimer | null = null;
  private isClosed = false;

  constructor(
    private readonly create: () => HashPool,
    private readonly scheduler: Scheduler,
    private readonly idleMs = HASH_POOL_IDLE_MS,
  ) {}

  get threads(): number {
    return this.pool?.threads ?? 0;
  }

  /** Workers running now (tests, figures). */
  get isRunning(): boolean {
    return this.pool !== null;
  }

  digest(
    algorithm: HashAlgorithm,
    data: Uint8Array,
    options?: { readonly transfer?: boolean },
  ): Promise<Uint8Array> {
    return this.run((p) => p.digest(algorithm, data, options));
  }

  digestLent(algorithm: HashAlgorithm, data: Uint8Array): Promise<LentDigest> {
    return this.run(async (p) =>
      p.digestLent ? p.digestLent(algorithm, data) : { digest: await p.digest(algorithm, data), data },
    );
  }

  hashPieces(job: HashPiecesJob): Promise<Uint8Array[]> {
    return this.run((p) => p.hashPieces(job));
  }

  async *hashPiecesIter(job: HashPiecesJob): AsyncGenerator<PieceDigest, void, undefined> {
    const pool = this.acquire();
    try {
      yield* pool.hashPiecesIter(job);
    } finally {
      this.releaseOne();
    }
  }

  warmUp(): void {
    this.acquire().warmUp();
    this.releaseOne();
  }

  async close(): Promise<void> {
    this.isClosed = true;
    this.cancelIdle?.();
    this.cancelIdle = null;
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }

  private async run<T>(job: (pool: HashPool) => Promise<T>): Promise<T> {
    const pool = this.acquire();
    // Released when the job settles: the idle timer starts from the last job's end.
    try {
      return await job(pool);
    } finally {
      this.releaseOne();
    }
  }

  private acquire(): HashPool {
    if (this.isClosed) throw new PeerdropError('STORAGE_CLOSED', 'the hash pool is closed');
    this.cancelIdle?.();
    this.cancelIdle = null;
    this.busy++;
    this.pool ??= this.create();
    return this.pool;
  }

  private releaseOne(): void {
    this.busy--;
    if (this.busy > 0 || this.isClosed) return;
    this.cancelIdle = this.scheduler.setTimer(this.idleMs, () => {
      this.cancelIdle = null;
      if (this.busy > 0) return;
      const pool = this.pool;
      this.pool = null;
      void pool?.close();
    });
  }
}
