import { parentPort, workerData } from 'node:worker_threads';
import { hashClaimed, LinearHasher, type LinearPlan, LinearReadError } from './linear-core.js';

/** A `peerdrop create` hashing thread (see linear-hash.ts): claims batches until none is left. */
interface LinearWorkerData {
  readonly plan: LinearPlan;
  readonly control: SharedArrayBuffer;
  readonly digests: SharedArrayBuffer;
}

const data = workerData as LinearWorkerData;
const hasher = new LinearHasher(data.plan);
try {
  hashClaimed(hasher, data.plan, new Int32Array(data.control), new Uint8Array(data.digests));
  parentPort!.postMessage({ ok: true });
} catch (err) {
  const e = err instanceof LinearReadError ? err : null;
  parentPort!.postMessage({
    ok: false,
    message: err instanceof Error ? err.message : String(err),
    path: e?.path,
    errno: e?.errno,
  });
} finally {
  hasher.close();
}
