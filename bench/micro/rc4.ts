/**
 * Micro-benchmark of the MSE cipher: RC4 without OpenSSL (src/mse/rc4.ts, WebAssembly engine) encrypting block-sized
 * chunks into new buffers (as MseConnection.write does: a piece message header and a 16 KiB
 * block per call) and decrypting socket-sized 64 KiB reads.
 *   node --import tsx bench/micro/rc4.ts [megabytes]
 */
import { Rc4 } from '../../src/mse/rc4.js';

export interface Rc4BenchResult {
  readonly megabytes: number;
  /** Encrypting a 13-byte header plus a 16 KiB block into one new buffer per call. */
  readonly encryptMBps: number;
  /** Decrypting 64 KiB chunks into new buffers. */
  readonly decryptMBps: number;
  /** The same decryption on the JavaScript engine (the fallback), for the ratio. */
  readonly jsDecryptMBps: number;
}

const BLOCK = 16 * 1024;
const READ = 64 * 1024;

/** Runs over `megabytes` in each direction (small for the smoke test). */
export function runRc4Bench(megabytes = 256): Rc4BenchResult {
  const key = new Uint8Array(20).map((_, i) => i * 13 + 7);
  const header = new Uint8Array(13).fill(1);
  const block = new Uint8Array(BLOCK).map((_, i) => i & 0xff);
  const enc = new Rc4(key, 1024);
  const total = megabytes * 1024 * 1024;
  let sink = 0;
  let t = performance.now();
  for (let done = 0; done < total; done += BLOCK + header.length) {
    const out = new Uint8Array(header.length + BLOCK);
    enc.processInto(header, out, 0);
    enc.processInto(block, out, header.length);
    sink ^= out[100]!;
  }
  const encryptMs = performance.now() - t;
  const read = new Uint8Array(READ).map((_, i) => (i * 31) & 0xff);
  const dec = new Rc4(key, 1024);
  t = performance.now();
  for (let done = 0; done < total; done += READ) sink ^= dec.process(read)[7]!;
  const decryptMs = performance.now() - t;
  const js = new Rc4(key, 1024, { engine: 'js' });
  t = performance.now();
  for (let done = 0; done < total; done += READ) sink ^= js.process(read)[7]!;
  const jsMs = performance.now() - t;
  if (sink === 256) process.stdout.write(''); // keep the work observable to the optimiser
  const mb = total / 1e6;
  return {
    megabytes,
    encryptMBps: mb / (encryptMs / 1000 || 1e-9),
    decryptMBps: mb / (decryptMs / 1000 || 1e-9),
    jsDecryptMBps: mb / (jsMs / 1000 || 1e-9),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = runRc4Bench(Number(process.argv[2] ?? 256));
  process.stdout.write(
    `rc4: ${r.megabytes} MiB each way  encrypt ${r.encryptMBps.toFixed(0)} MB/s (header+block per call)  ` +
      `decrypt ${r.decryptMBps.toFixed(0)} MB/s (64 KiB reads)  JavaScript engine ${r.jsDecryptMBps.toFixed(0)} MB/s\n`,
  );
}
