import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { StorageError } from '../errors.js';
import { hashClaimed, LinearHasher, type LinearPlan, LinearReadError } from './linear-core.js';

/**
 * v1 piece hashes of `peerdrop create` (issue 15: ≥ mktorrent -t 2). The main thread hashes
 * from the first millisecond while its worker threads start; every thread claims batches of
 * pieces from one shared counter (Atomics) and writes digests straight into one shared array,
 * so no message is passed per batch and a thread that starts late simply claims less.
 * With `isMainHashing`, `threads` counts the main thread: 2 is the main thread and one worker,
 * the same two hashing threads as `mktorrent -t 2` without a second worker's start-up (the
 * CLI's choice). Without it (the default: a daemon or a library caller keeps its event loop
 * free), `threads` workers do all of it.
 */
export interface LinearHashOptions {
  readonly threads?: number;
  /** Pieces hashed so far (all threads), after each batch of the main thread. */
  readonly onProgress?: (piecesDone: number) => void;
  readonly signal?: AbortSignal | undefined;
  /** Bytes claimed at once (default BATCH_BYTES; tests make it small to share out few pieces). */
  readonly batchBytes?: number;
  /** The main thread hashes too, between yields to its event loop (default false). */
  readonly isMainHashing?: boolean;
}

/** About 8 MiB a claim: enough to amortise the claim, small enough to share out evenly. */
const BATCH_BYTES = 8 * 1024 * 1024;

interface WorkerOutcome {
  readonly ok: boolean;
  readonly message?: string;
  readonly path?: string;
  readonly errno?: string;
}

export async function hashLinearV1(
  files: readonly { readonly fsPath: string; readonly lengthBytes: number }[],
  pieceLength: number,
  options: LinearHashOptions = {},
): Promise<Uint8Array> {
  const total = files.reduce((n, f) => n + f.lengthBytes, 0);
  const pieceCount = Math.ceil(total / pieceLength);
  const plan: LinearPlan = {
    paths: files.map((f) => f.fsPath),
    lengths: files.map((f) => f.lengthBytes),
    pieceLength,
    pieceCount,
    batchPieces: Math.max(1, Math.floor((options.batchBytes ?? BATCH_BYTES) / pieceLength)),
  };
  const digestsBuffer = new SharedArrayBuffer(pieceCount * 20);
  const controlBuffer = new SharedArrayBuffer(12);
  const control = new Int32Array(controlBuffer);
  const out = new Uint8Array(digestsBuffer);
  const batches = Math.ceil(pieceCount / plan.batchPieces);
  const threads = options.threads ?? Math.min(2, availableParallelism());
  const workers: Worker[] = [];
  const outcomes: Promise<WorkerOutcome>[] = [];
  const wantMain = options.isMainHashing === true;
  const workerCount = wantMain ? Math.min(threads - 1, batches - 1) : Math.min(threads, batches);
  for (let i = 0; i < workerCount; i++) {
    const w = startWorker({ plan, control: controlBuffer, digests: digestsBuffer });
    workers.push(w);
    outcomes.push(
      new Promise<WorkerOutcome>((resolve) => {
        w.once('message', (m: WorkerOutcome) => resolve(m));
        w.once('error', (err) => resolve({ ok: false, message: `hash worker failed: ${err.message}` }));
        w.once('exit', (code) => resolve({ ok: false, message: `hash worker exited with code ${code}` }));
      }),
    );
  }
  const hasher = new LinearHasher(plan);
  const isMainHashing = wantMain || workers.length === 0;
  try {
    while (isMainHashing) {
      options.signal?.throwIfAborted();
      let more: boolean;
      try {
        more = hashClaimed(hasher, plan, control, out, 1);
      } catch (err) {
        throw storageError(err);
      }
      options.onProgress?.(Atomics.load(control, 1));
      if (!more) break;
      // Let worker messages, progress output and an abort in between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // The workers' remaining batches: progress and an abort are looked at every 50 ms.
    const all = Promise.all(outcomes);
    let finished = false;
    void all.then(() => {
      finished = true;
    });
    while (!finished) {
      options.signal?.throwIfAborted();
      await Promise.race([all, new Promise<void>((resolve) => setTimeout(resolve, 50))]);
      options.onProgress?.(Atomics.load(control, 1));
    }
    for (const o of await all) {
      if (!o.ok)
        throw new StorageError(o.errno ? 'STORAGE_IO' : 'STORAGE_HASH_WORKER_FAILED', o.message ?? 'failed', {
          operation: 'hash',
          ...(o.path ? { path: o.path } : {}),
          ...(o.errno ? { errno: o.errno } : {}),
        });
    }
    options.onProgress?.(pieceCount);
    // A plain copy: callers keep the digests beyond the workers' shared memory.
    return new Uint8Array(out);
  } finally {
    Atomics.store(control, 2, 1); // stop the workers at their next claim if we leave early
    hasher.close();
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function storageError(err: unknown): unknown {
  if (!(err instanceof LinearReadError)) return err;
  return new StorageError(err.errno === undefined ? 'STORAGE_MISSING_DATA' : 'STORAGE_IO', err.message, {
    operation: 'hash',
    path: err.path,
    ...(err.errno ? { errno: err.errno } : {}),
  });
}

/**
 * The worker from `linear-worker.js` beside this module (compiled `dist/`), or from the `.ts`
 * source under tsx (Node 20 does not apply `--import tsx` to workers: the worker registers
 * tsx itself first), as the hash pool does.
 */
function startWorker(workerData: unknown): Worker {
  const js = new URL('./linear-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData });
  const ts = new URL('./linear-worker.ts', import.meta.url);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(ts.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}
