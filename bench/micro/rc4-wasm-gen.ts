/**
 * Assembles the RC4 WebAssembly module embedded in src/mse/rc4.ts (RC4_WASM_BASE64) and prints
 * it as base64. No toolchain needed: the few opcodes used are written out below. Re-run after
 * changing the loop, paste the output into rc4.ts; rc4.test.ts checks it against the JS engine.
 *   node --import tsx bench/micro/rc4-wasm-gen.ts
 *
 * (func (export "run") (param $p i32) (param $n i32)   ;; memory: S[0..255], i at 256, j at 257
 *   end = p + n; end4 = p + (n & ~3); i = mem[256]; j = mem[257]
 *   while (p < end4) {                                ;; 4 keystream bytes, one 32-bit XOR
 *     k = ks() | ks() << 8 | ks() << 16 | ks() << 24; mem32[p] ^= k; p += 4 }
 *   while (p < end) { mem[p] ^= ks(); p++ }
 *   mem[256] = i; mem[257] = j)
 * where ks() = { i = (i + 1) & 255; si = S[i]; j = (j + si) & 255; sj = S[j];
 *                S[i] = sj; S[j] = si; return S[(si + sj) & 255] }
 */

const P = 0;
const N = 1;
const I = 2;
const J = 3;
const SI = 4;
const SJ = 5;
const END = 6;
const END4 = 7;
const K = 8;

const get = (x: number) => [0x20, x];
const set = (x: number) => [0x21, x];
const tee = (x: number) => [0x22, x];
function i32(v: number): number[] {
  // signed LEB128
  const out: number[] = [];
  let more = true;
  while (more) {
    let b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) more = false;
    else b |= 0x80;
    out.push(b);
  }
  return [0x41, ...out];
}
const add = [0x6a];
const and = [0x71];
const or = [0x72];
const xor = [0x73];
const shl = [0x74];
const geU = [0x4f];
const load8 = [0x2d, 0, 0];
const store8 = [0x3a, 0, 0];
const load32 = [0x28, 2, 0];
const store32 = [0x36, 2, 0];
const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const end = [0x0b];
const brIf = (d: number) => [0x0d, d];
const br = (d: number) => [0x0c, d];

/** Leaves the next keystream byte on the stack. */
const ks = [
  ...get(I),
  ...i32(1),
  ...add,
  ...i32(255),
  ...and,
  ...set(I),
  ...get(I),
  ...load8,
  ...tee(SI),
  ...get(J),
  ...add,
  ...i32(255),
  ...and,
  ...set(J),
  ...get(J),
  ...load8,
  ...set(SJ),
  ...get(I),
  ...get(SJ),
  ...store8,
  ...get(J),
  ...get(SI),
  ...store8,
  ...get(SI),
  ...get(SJ),
  ...add,
  ...i32(255),
  ...and,
  ...load8,
];

const body = [
  1,
  7,
  0x7f, // 7 locals of i32: i j si sj end end4 k
  ...get(P),
  ...get(N),
  ...add,
  ...set(END),
  ...get(P),
  ...get(N),
  ...i32(-4),
  ...and,
  ...add,
  ...set(END4),
  ...i32(256),
  ...load8,
  ...set(I),
  ...i32(257),
  ...load8,
  ...set(J),
  ...block,
  ...loop,
  ...get(P),
  ...get(END4),
  ...geU,
  ...brIf(1),
  ...ks,
  ...set(K),
  ...get(K),
  ...ks,
  ...i32(8),
  ...shl,
  ...or,
  ...set(K),
  ...get(K),
  ...ks,
  ...i32(16),
  ...shl,
  ...or,
  ...set(K),
  ...get(K),
  ...ks,
  ...i32(24),
  ...shl,
  ...or,
  ...set(K),
  ...get(P),
  ...get(P),
  ...load32,
  ...get(K),
  ...xor,
  ...store32,
  ...get(P),
  ...i32(4),
  ...add,
  ...set(P),
  ...br(0),
  ...end,
  ...end,
  ...block,
  ...loop,
  ...get(P),
  ...get(END),
  ...geU,
  ...brIf(1),
  ...get(P),
  ...get(P),
  ...load8,
  ...ks,
  ...xor,
  ...store8,
  ...get(P),
  ...i32(1),
  ...add,
  ...set(P),
  ...br(0),
  ...end,
  ...end,
  ...i32(256),
  ...get(I),
  ...store8,
  ...i32(257),
  ...get(J),
  ...store8,
  ...end,
];

function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}
const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
const name = (s: string) => [s.length, ...Buffer.from(s)];

export function rc4WasmModule(): Uint8Array {
  const fn = [...uleb(body.length), ...body];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 0]), // type 0: (i32, i32) -> ()
    ...section(3, [1, 0]), // func 0: type 0
    ...section(5, [1, 0, 2]), // one memory, 2 pages, no maximum
    ...section(7, [2, ...name('mem'), 2, 0, ...name('run'), 0, 0]),
    ...section(10, [1, ...fn]),
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const bytes = rc4WasmModule();
  process.stdout.write(`${bytes.length} bytes\n${Buffer.from(bytes).toString('base64')}\n`);
}
