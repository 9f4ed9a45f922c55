/**
 * RC4 without OpenSSL. Node 20's OpenSSL 3 has no `rc4` cipher unless the process starts with
 * `--openssl-legacy-provider`, which a library cannot switch on, so MSE (BEP 8's Message
 * Stream Encryption) brings its own.
 *
 * Two engines over one state layout (S[0..255], then i and j: 258 bytes per stream):
 *  - WebAssembly (the default): the keystream loop below, about 3× the speed of the same loop
 *    in JavaScript here (no bounds checks, no typed-array element conversions). One module
 *    instance per thread; each call copies the stream's 258-byte state in, runs over 64 KiB
 *    windows of the input in the module's memory, and copies the state back, so any number of
 *    streams share the instance. Calls are synchronous, so nothing interleaves.
 *  - JavaScript: for short inputs (where the copies cost more than they save) and where
 *    WebAssembly is unavailable (`--jitless`). `rc4.test.ts` proves both give the same bytes.
 *
 * Ownership: `process` never touches its input. Wire chunks are often views of pooled or
 * caller-owned buffers (a block from the piece cache, a reused frame header), so encrypting in
 * place would corrupt data someone else still reads.
 *
 * The module (493 bytes) is assembled by bench/micro/rc4-wasm-gen.ts (its comment has the
 * loop): the keystream four bytes at a time, XORed into the input as one 32-bit word (~15%
 * faster than a byte at a time), then the tail byte by byte. Memory "mem" (2 pages) is
 * exported; the input window sits at {@link WINDOW_OFFSET}.
 */

const RC4_WASM_BASE64 =
  'AGFzbQEAAAABBgFgAn9/AAMCAQAFAwEAAgcNAgNtZW0CAANydW4AAArCAwG/AwEHfyAAIAFqIQYgACABQXxxaiEHQYACLQAAIQJBgQItAAAhAwJAA0AgACAHTw0BIAJBAWpB/wFxIQIgAi0AACIEIANqQf8BcSEDIAMtAAAhBSACIAU6AAAgAyAEOgAAIAQgBWpB/wFxLQAAIQggCCACQQFqQf8BcSECIAItAAAiBCADakH/AXEhAyADLQAAIQUgAiAFOgAAIAMgBDoAACAEIAVqQf8BcS0AAEEIdHIhCCAIIAJBAWpB/wFxIQIgAi0AACIEIANqQf8BcSEDIAMtAAAhBSACIAU6AAAgAyAEOgAAIAQgBWpB/wFxLQAAQRB0ciEIIAggAkEBakH/AXEhAiACLQAAIgQgA2pB/wFxIQMgAy0AACEFIAIgBToAACADIAQ6AAAgBCAFakH/AXEtAABBGHRyIQggACAAKAIAIAhzNgIAIABBBGohAAwACwsCQANAIAAgBk8NASAAIAAtAAAgAkEBakH/AXEhAiACLQAAIgQgA2pB/wFxIQMgAy0AACEFIAIgBToAACADIAQ6AAAgBCAFakH/AXEtAABzOgAAIABBAWohAAwACwtBgAIgAjoAAEGBAiADOgAACw==';
const STATE_BYTES = 258;
const WINDOW_OFFSET = 4096;
const WINDOW_BYTES = 64 * 1024;
/** Below this, the JavaScript loop wins over two state copies and a call. */
const WASM_MIN_BYTES = 256;

interface WasmRc4 {
  readonly memory: Uint8Array;
  readonly run: (offset: number, length: number) => void;
}

/** The slice of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

let wasm: WasmRc4 | null | undefined;

function wasmEngine(): WasmRc4 | null {
  if (wasm !== undefined) return wasm;
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  try {
    if (!api) throw new Error('no WebAssembly');
    const module = new api.Module(Buffer.from(RC4_WASM_BASE64, 'base64'));
    const { exports } = new api.Instance(module, {});
    const memory = exports.mem as { readonly buffer: ArrayBuffer };
    // The memory never grows (no memory.grow in the module), so this view stays valid.
    wasm = { memory: new Uint8Array(memory.buffer), run: exports.run as WasmRc4['run'] };
  } catch {
    wasm = null; // no WebAssembly here: the JavaScript loop does it all
  }
  return wasm;
}

export class Rc4 {
  /** S[0..255], i at 256, j at 257 (the layout the WebAssembly loop expects). */
  private readonly state = new Uint8Array(STATE_BYTES);
  private readonly useWasm: boolean;

  /** Key schedule (1–256 key bytes), then `discardBytes` of keystream dropped (MSE: 1,024). */
  constructor(key: Uint8Array, discardBytes = 0, options: { engine?: 'auto' | 'js' } = {}) {
    if (key.length === 0 || key.length > 256) throw new RangeError('RC4 key must be 1–256 bytes');
    this.useWasm = options.engine !== 'js' && wasmEngine() !== null;
    const s = this.state;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      const sk = s[k]!;
      j = (j + sk + key[k % key.length]!) & 255;
      s[k] = s[j]!;
      s[j] = sk;
    }
    if (discardBytes > 0) this.skip(discardBytes);
  }

  /** XOR `input` with the next `input.length` keystream bytes into a new buffer. */
  process(input: Uint8Array): Uint8Array {
    const out = new Uint8Array(input.length);
    this.processInto(input, out, 0);
    return out;
  }

  /**
   * XOR `input` with the keystream into `out` at `outOffset`. `out` must not overlap `input`
   * unless the caller owns both. Used to encrypt a batch of chunks into one new buffer.
   */
  processInto(input: Uint8Array, out: Uint8Array, outOffset: number): void {
    const engine = this.useWasm && input.length >= WASM_MIN_BYTES ? wasmEngine() : null;
    if (!engine) {
      this.processJs(input, out, outOffset);
      return;
    }
    const mem = engine.memory;
    mem.set(this.state, 0);
    for (let at = 0; at < input.length; at += WINDOW_BYTES) {
      const n = Math.min(WINDOW_BYTES, input.length - at);
      mem.set(input.subarray(at, at + n), WINDOW_OFFSET);
      engine.run(WINDOW_OFFSET, n);
      out.set(mem.subarray(WINDOW_OFFSET, WINDOW_OFFSET + n), outOffset + at);
    }
    this.state.set(mem.subarray(0, STATE_BYTES));
  }

  /** Advance the keystream by `count` bytes without output. */
  skip(count: number): void {
    const scratch = new Uint8Array(Math.min(count, WINDOW_BYTES));
    for (let left = count; left > 0; left -= scratch.length) {
      const n = Math.min(left, scratch.length);
      this.processInto(scratch.subarray(0, n), scratch, 0);
    }
  }

  private processJs(input: Uint8Array, out: Uint8Array, outOffset: number): void {
    const s = this.state;
    let i = s[256]!;
    let j = s[257]!;
    const n = input.length;
    for (let k = 0; k < n; k++) {
      i = (i + 1) & 255;
      const si = s[i]!;
      j = (j + si) & 255;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      out[outOffset + k] = input[k]! ^ s[(si + sj) & 255]!;
    }
    s[256] = i;
    s[257] = j;
  }
}
