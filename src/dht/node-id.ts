/**
 * Node ids: XOR distance (BEP 5) and BEP 42's binding of an id to its node's external IP, which
 * makes it expensive to place many nodes next to one target (a Sybil attack).
 */
import { ipBytes } from './ip-cache.js';
import { NODE_ID_BYTES } from './krpc.js';

/** 20 random-or-derived bytes naming a node, an info-hash or a BEP 44 target. */
export type NodeId = Uint8Array;

/** a XOR b, the Kademlia distance. */
export function xorDistance(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(NODE_ID_BYTES);
  for (let i = 0; i < NODE_ID_BYTES; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Negative when `a` is closer to `target` than `b`, 0 when equally close. */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < NODE_ID_BYTES; i++) {
    const da = a[i]! ^ target[i]!;
    const db = b[i]! ^ target[i]!;
    if (da !== db) return da - db;
  }
  return 0;
}

/** Leading bits `a` and `b` share (160 when equal). */
export function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < NODE_ID_BYTES; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return NODE_ID_BYTES * 8;
}

/** A random id sharing exactly `prefixBits` leading bits with `base` (for bucket refreshes). */
export function randomIdWithPrefix(
  base: Uint8Array,
  prefixBits: number,
  randomBytes: (n: number) => Uint8Array,
): NodeId {
  const out = randomBytes(NODE_ID_BYTES);
  const bits = Math.min(prefixBits, NODE_ID_BYTES * 8 - 1);
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) out[i] = base[i]!;
  const rem = bits & 7;
  const keep = (0xff00 >> rem) & 0xff; // the `rem` high bits of the byte come from base
  const flip = 0x80 >> rem; // the first differing bit
  out[whole] = (base[whole]! & keep) | ((base[whole]! ^ flip) & flip) | (out[whole]! & ~(keep | flip) & 0xff);
  return out;
}

// CRC32C (Castagnoli), reflected polynomial 0x82F63B78, as BEP 42 prescribes.
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC32C_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const V4_MASK = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

/** BEP 42: crc32c of the masked address with `r` (0..7) in its top 3 bits. */
function bep42Crc(ip: Uint8Array, r: number): number {
  const mask = ip.length === 4 ? V4_MASK : V6_MASK;
  const masked = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) masked[i] = ip[i]! & mask[i]!;
  masked[0]! |= (r & 7) << 5;
  return crc32c(masked);
}

/**
 * BEP 42: addresses exempt from the id check (the local networks the BEP names, plus
 * loopback and link-local/ULA for IPv6), where ids cannot be bound to a public address.
 */
export function isExemptAddress(host: string): boolean {
  const ip = ipBytes(host);
  const v4 = ip?.length === 4 ? ip : null;
  if (v4) {
    const [a, b] = [v4[0]!, v4[1]!];
    return (
      a === 10 ||
      a === 127 ||
      (a === 172 && (b & 0xf0) === 16) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254)
    );
  }
  const v6 = ip?.length === 16 ? ip : null;
  if (!v6) return true;
  const isLoopback = v6.every((x, i) => x === (i === 15 ? 1 : 0));
  return isLoopback || (v6[0]! & 0xfe) === 0xfc || (v6[0] === 0xfe && (v6[1]! & 0xc0) === 0x80);
}

/** Whether `id` is a BEP 42 compliant id for `host` (exempt addresses always are). */
export function isCompliantId(id: Uint8Array, host: string): boolean {
  if (isExemptAddress(host)) return true;
  const ip = ipBytes(host);
  if (!ip || id.length !== NODE_ID_BYTES) return false;
  const crc = bep42Crc(ip, id[19]! & 7);
  // The first 21 bits of the id are the first 21 bits of the crc.
  return id[0] === crc >>> 24 && id[1] === ((crc >>> 16) & 0xff) && (id[2]! & 0xf8) === ((crc >>> 8) & 0xf8);
}

/**
 * A BEP 42 compliant id for our external address `host`: `rand` is the last byte (its low
 * 3 bits are `r`), the rest comes from `randomBytes`.
 */
export function compliantId(host: string, randomBytes: (n: number) => Uint8Array, rand?: number): NodeId {
  const ip = ipBytes(host);
  const id = randomBytes(NODE_ID_BYTES);
  if (!ip) return id;
  const last = rand ?? id[19]!;
  const crc = bep42Crc(ip, last & 7);
  id[0] = crc >>> 24;
  id[1] = (crc >>> 16) & 0xff;
  id[2] = ((crc >>> 8) & 0xf8) | (id[2]! & 7);
  id[19] = last & 0xff;
  return id;
}
