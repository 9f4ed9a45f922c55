/**
 * The key material of MSE (BEP 8 / the Vuze "Message Stream Encryption" spec): a Diffie-Hellman
 * exchange over MSE's own 768-bit prime with generator 2, then SHA-1 derivations.
 *
 * Traps this file exists to avoid:
 *  - The prime is NOT Oakley group 1 (`getDiffieHellman('modp1')`); it only shares the first
 *    half. A secret over modp1 agrees with no other client.
 *  - Public keys and the secret are exactly 96 bytes, big-endian, left-padded with zeros. Node
 *    returns them unpadded (a value with a leading zero byte comes back 95 bytes long), and
 *    every hash below covers the padded form.
 *
 * The modular exponentiation: Node's `createDiffieHellman` spends ~100 ms (once per process)
 * proving the prime safe, which is most of a short transfer's set-up and a third of the CPU of a
 * 1 MiB download. So the first {@link BIGINT_OPERATIONS} exponentiations are a BigInt square-and-multiply
 * (~1.5 ms each with a 160-bit exponent); a process that keeps making connections then
 * switches to one shared OpenSSL object (~0.4 ms each), only ever used synchronously (set
 * private key, compute), so sharing it is safe. The public key is `computeSecret(G)` = G^x mod P.
 */
import { createDiffieHellman, createHash, type DiffieHellman } from 'node:crypto';
import { MseError } from './errors.js';

/** MSE's prime P (768 bits). */
export const MSE_PRIME_HEX =
  'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404dd' +
  'ef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a63a36210000000000090563';
export const MSE_GENERATOR = 2;
/** Length of public keys and the shared secret on the wire. */
export const KEY_BYTES = 96;
/** Our private exponents: 160 bits (the spec asks for at least 128). */
export const PRIVATE_KEY_BYTES = 20;

const PRIME = Buffer.from(MSE_PRIME_HEX, 'hex');
const GENERATOR_PADDED = leftPad(Uint8Array.of(MSE_GENERATOR));
const PRIME_BIG = BigInt(`0x${MSE_PRIME_HEX}`);
/** After this many exponentiations the one-off prime check of OpenSSL's object has paid for itself. */
const BIGINT_OPERATIONS = 64;
let operations = 0;
let shared: DiffieHellman | null = null;

/** base^exponent mod P, both 96-byte (or shorter) big-endian, result left-padded to 96 bytes. */
function modPow(base: Uint8Array, exponent: Uint8Array): Uint8Array {
  if (operations < BIGINT_OPERATIONS) {
    operations++;
    return toBytes(modPowBig(toBig(base), exponent));
  }
  shared ??= createDiffieHellman(PRIME, MSE_GENERATOR);
  shared.setPrivateKey(Buffer.from(exponent));
  return leftPad(shared.computeSecret(Buffer.from(base)));
}

/** Left-to-right square-and-multiply with a 4-bit window over the exponent's bytes. */
function modPowBig(base: bigint, exponent: Uint8Array): bigint {
  const table: bigint[] = [1n];
  for (let i = 1; i < 16; i++) table.push((table[i - 1]! * base) % PRIME_BIG);
  let r = 1n;
  for (const byte of exponent) {
    for (const nibble of [byte >> 4, byte & 15]) {
      r = (r * r) % PRIME_BIG;
      r = (r * r) % PRIME_BIG;
      r = (r * r) % PRIME_BIG;
      r = (r * r) % PRIME_BIG;
      if (nibble !== 0) r = (r * table[nibble]!) % PRIME_BIG;
    }
  }
  return r;
}

function toBig(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function toBytes(value: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(value.toString(16).padStart(KEY_BYTES * 2, '0'), 'hex'));
}

/** Left-pad a big-endian number to {@link KEY_BYTES}. */
export function leftPad(value: Uint8Array): Uint8Array {
  if (value.length > KEY_BYTES) throw new RangeError(`value over ${KEY_BYTES} bytes`);
  const out = new Uint8Array(KEY_BYTES);
  out.set(value, KEY_BYTES - value.length);
  return out;
}

/** Our public key Y = 2^x mod P, 96 bytes. */
export function publicKeyFor(privateKey: Uint8Array): Uint8Array {
  return modPow(GENERATOR_PADDED, privateKey);
}

/**
 * The shared secret S = Y^x mod P, 96 bytes. Rejects a peer key outside 2..P-2: 0, 1 and P-1
 * give a secret anyone can guess, and OpenSSL would throw on them with a non-MSE error.
 */
export function sharedSecret(privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  if (peerPublicKey.length !== KEY_BYTES || !isValidPublicKey(peerPublicKey)) {
    throw new MseError('MSE_BAD_PUBLIC_KEY', 'peer public key outside 2..P-2');
  }
  return modPow(peerPublicKey, privateKey);
}

/** 2 <= y <= P-2, comparing big-endian bytes (no BigInt on the hot path). */
function isValidPublicKey(y: Uint8Array): boolean {
  let isAboveOne = false;
  for (let i = 0; i < KEY_BYTES - 1; i++) {
    if (y[i] !== 0) {
      isAboveOne = true;
      break;
    }
  }
  if (!isAboveOne && y[KEY_BYTES - 1]! < 2) return false;
  // y <= P - 2  <=>  y < P - 1; P ends in ...63, so P - 1 differs only in the last byte.
  for (let i = 0; i < KEY_BYTES; i++) {
    const limit = i === KEY_BYTES - 1 ? PRIME[i]! - 1 : PRIME[i]!;
    if (y[i]! !== limit) return y[i]! < limit;
  }
  return false; // y === P - 1
}

/** SHA-1 over the concatenation of `parts` (the spec's HASH()). */
export function sha1(...parts: (Uint8Array | string)[]): Uint8Array {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** What both sides derive from S and SKEY (the info-hash). */
export interface MseKeys {
  /** HASH('req1', S): the responder syncs on it. */
  readonly req1: Uint8Array;
  /** HASH('req2', SKEY) xor HASH('req3', S): tells the responder which torrent, obfuscated. */
  readonly req2xor3: Uint8Array;
  /** HASH('keyA', S, SKEY): RC4 key of the initiator's sending direction. */
  readonly keyA: Uint8Array;
  /** HASH('keyB', S, SKEY): RC4 key of the responder's sending direction. */
  readonly keyB: Uint8Array;
}

export function deriveKeys(secret: Uint8Array, infoHash: Uint8Array): MseKeys {
  return {
    req1: sha1('req1', secret),
    req2xor3: xor20(sha1('req2', infoHash), sha1('req3', secret)),
    keyA: sha1('keyA', secret, infoHash),
    keyB: sha1('keyB', secret, infoHash),
  };
}

/** HASH('req2', SKEY): what a responder compares against (after removing HASH('req3', S)). */
export function req2Hash(infoHash: Uint8Array): Uint8Array {
  return sha1('req2', infoHash);
}

export function xor20(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(20);
  for (let i = 0; i < 20; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}
