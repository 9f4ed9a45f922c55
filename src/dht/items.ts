/**
 * BEP 44 items: immutable ones stored under the SHA-1 of their bencoded value, mutable ones
 * under SHA-1(public key ‖ salt), signed with ed25519 over `salt`, `seq` and the value, and
 * never downgraded. The signing and checks are pure functions; `ItemStore` is what a node
 * keeps for others (bounded, expiring after two hours as the BEP allows).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { encode } from '../bencode/index.js';
import { bytesEqual, concatBytes, toHex, utf8 } from '../util/bytes.js';
import type { Clock } from '../util/clock.js';
import { DhtError } from './errors.js';
import { KrpcErrorCode, MAX_ITEM_VALUE_BYTES, MAX_SALT_BYTES } from './krpc.js';

export const ITEM_TTL_MS = 2 * 60 * 60_000;

export function sha1(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(bytes).digest());
}

/** BEP 44: an immutable item's target is the SHA-1 of its bencoded value. */
export function immutableTarget(v: Uint8Array): Uint8Array {
  return sha1(v);
}

/** BEP 44: a mutable item's target is SHA-1(k ‖ salt). */
export function mutableTarget(publicKey: Uint8Array, salt?: Uint8Array): Uint8Array {
  return sha1(salt && salt.length > 0 ? concatBytes([publicKey, salt]) : publicKey);
}

/** BEP 44 "buffer being signed": (4:salt<len>:<salt>) 3:seqi<seq>e 1:v <bencoded value>. */
export function signedBuffer(v: Uint8Array, seq: number, salt?: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  if (salt && salt.length > 0) parts.push(encode('salt'), encode(salt));
  parts.push(encode('seq'), encode(seq), encode('v'), v);
  return concatBytes(parts);
}

export interface ItemKeyPair {
  /** Raw 32-byte ed25519 public key (what `k` carries). */
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

/** A fresh ed25519 key pair. */
export function generateItemKeyPair(): ItemKeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: rawPublicKey(privateKey), privateKey };
}

// PKCS #8 wrapping of a 32-byte ed25519 seed (RFC 8410).
const PKCS8_ED25519_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** The key pair of a 32-byte ed25519 seed (to keep a publisher key across runs). */
export function itemKeyPairFromSeed(seed: Uint8Array): ItemKeyPair {
  if (seed.length !== 32) throw new DhtError('DHT_BAD_ITEM', 'an ed25519 seed is 32 bytes');
  const privateKey = createPrivateKey({
    key: Buffer.from(concatBytes([PKCS8_ED25519_PREFIX, seed])),
    format: 'der',
    type: 'pkcs8',
  });
  return { publicKey: rawPublicKey(privateKey), privateKey };
}

function rawPublicKey(privateKey: KeyObject): Uint8Array {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new DhtError('DHT_BAD_ITEM', 'not an ed25519 key');
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'));
}

export function signItem(keyPair: ItemKeyPair, v: Uint8Array, seq: number, salt?: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, signedBuffer(v, seq, salt), keyPair.privateKey));
}

const publicKeys = new Map<string, KeyObject | null>();
const PUBLIC_KEY_CACHE_MAX = 1024;

function publicKeyObject(raw: Uint8Array): KeyObject | null {
  const hex = toHex(raw);
  const cached = publicKeys.get(hex);
  if (cached !== undefined) return cached;
  let key: KeyObject | null = null;
  try {
    key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
      format: 'jwk',
    });
  } catch {
    key = null;
  }
  if (publicKeys.size >= PUBLIC_KEY_CACHE_MAX) publicKeys.clear();
  publicKeys.set(hex, key);
  return key;
}

/** Whether `sig` is `k`'s signature of the item. Never throws. */
export function verifyItem(
  k: Uint8Array,
  sig: Uint8Array,
  v: Uint8Array,
  seq: number,
  salt?: Uint8Array,
): boolean {
  if (k.length !== 32 || sig.length !== 64) return false;
  const key = publicKeyObject(k);
  if (!key) return false;
  try {
    return verify(null, signedBuffer(v, seq, salt), key, sig);
  } catch {
    return false;
  }
}

/** An item as stored and served. `k`, `sig`, `seq` (and `salt`) only for mutable ones. */
export interface DhtItem {
  readonly v: Uint8Array;
  readonly k?: Uint8Array;
  readonly sig?: Uint8Array;
  readonly seq?: number;
  readonly salt?: Uint8Array;
}

interface StoredItem extends DhtItem {
  expiresMs: number;
}

export interface PutRequest extends DhtItem {
  readonly cas?: number;
}

export type PutOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: number; readonly message: string };

/** Check a put as a storing node must (BEP 44), returning its target or the error to answer. */
export function validatePut(put: PutRequest): { target: Uint8Array } | { code: number; message: string } {
  if (put.v.length > MAX_ITEM_VALUE_BYTES)
    return { code: KrpcErrorCode.ValueTooBig, message: 'message (v field) too big' };
  if (put.salt && put.salt.length > MAX_SALT_BYTES)
    return { code: KrpcErrorCode.SaltTooBig, message: 'salt too big' };
  if (!put.k) return { target: immutableTarget(put.v) };
  if (!put.sig || put.seq === undefined || !verifyItem(put.k, put.sig, put.v, put.seq, put.salt))
    return { code: KrpcErrorCode.InvalidSignature, message: 'invalid signature' };
  return { target: mutableTarget(put.k, put.salt) };
}

export class ItemStore {
  private readonly items = new Map<string, StoredItem>();

  constructor(
    private readonly clock: Clock,
    private readonly maxItems = 1000,
    private readonly ttlMs = ITEM_TTL_MS,
  ) {}

  get size(): number {
    return this.items.size;
  }

  get(target: Uint8Array): DhtItem | undefined {
    const item = this.items.get(toHex(target));
    return item && item.expiresMs > this.clock.now() ? item : undefined;
  }

  /** Store a put that arrived with a valid token. */
  put(put: PutRequest): PutOutcome {
    const checked = validatePut(put);
    if ('code' in checked) return { ok: false, ...checked };
    const key = toHex(checked.target);
    const existing = this.items.get(key);
    const expiresMs = this.clock.now() + this.ttlMs;
    if (existing && put.k) {
      const seq = existing.seq ?? 0;
      if (put.cas !== undefined && put.cas !== seq)
        return {
          ok: false,
          code: KrpcErrorCode.CasMismatch,
          message: 'the CAS mismatched, re-read value and try again',
        };
      if (put.seq! < seq || (put.seq === seq && !bytesEqual(put.v, existing.v)))
        return { ok: false, code: KrpcErrorCode.SeqTooLow, message: 'sequence number less than current' };
    }
    if (!existing && this.items.size >= this.maxItems) {
      const oldest = this.items.keys().next().value;
      if (oldest !== undefined) this.items.delete(oldest);
    }
    this.items.delete(key);
    const { cas: _cas, ...item } = put;
    this.items.set(key, { ...item, v: put.v.slice(), expiresMs });
    return { ok: true };
  }

  expire(): void {
    const now = this.clock.now();
    for (const [key, item] of this.items) if (item.expiresMs <= now) this.items.delete(key);
  }
}

/** The bencoded form of a text value, for callers that put strings. */
export function textValue(text: string): Uint8Array {
  return encode(utf8(text));
}
