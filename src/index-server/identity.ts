import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '../util/bytes.js';
import {
  assertCanonicalEntry,
  canonicalEntryBytes,
  canonicalizeEntry,
  canonicalRemovalBytes,
  type EntryBody,
  type RemovalBody,
  type SignedEntry,
  type SignedRemoval,
} from './entry.js';
import { IndexError } from './errors.js';

/**
 * A publisher identity: an ed25519 key pair (node:crypto). Created on first use and kept in
 * `$PEERDROP_HOME/identity.json` (default `~/.config/peerdrop/`), mode 0600, folder 0700.
 * The public key is shown as 64 lowercase hex (what entries carry) or base64url (JWK `x`).
 */
export interface Identity {
  /** Raw 32-byte public key as 64 lowercase hex. */
  readonly publicKeyHex: string;
  readonly publicKeyBase64url: string;
  readonly privateKey: KeyObject;
}

const IDENTITY_FILE = 'identity.json';
const MAX_IDENTITY_FILE_BYTES = 16 * 1024;

/** The folder holding peerdrop's user state: `$PEERDROP_HOME`, else `~/.config/peerdrop`. */
export function peerdropHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.PEERDROP_HOME || join(homedir(), '.config', 'peerdrop');
}

export function generateIdentity(): Identity {
  const { privateKey } = generateKeyPairSync('ed25519');
  return identityFromPrivateKey(privateKey);
}

function identityFromPrivateKey(privateKey: KeyObject): Identity {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new IndexError('IDENTITY_INVALID', 'not an ed25519 key');
  const raw = Buffer.from(jwk.x, 'base64url');
  return { publicKeyHex: toHex(raw), publicKeyBase64url: jwk.x, privateKey };
}

/** Load the identity from `dir`, creating (and saving, 0600) a new one if none exists. */
export function loadOrCreateIdentity(dir = peerdropHome()): Identity {
  const file = join(dir, IDENTITY_FILE);
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== null) return parseIdentityFile(text, file);
  const id = generateIdentity();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pkcs8 = id.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
  const body = `${JSON.stringify({ version: 1, publicKey: id.publicKeyHex, privateKeyPkcs8: pkcs8 }, null, 2)}\n`;
  try {
    // 'wx': if another process created it meanwhile, use theirs rather than overwrite it.
    writeFileSync(file, body, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateIdentity(dir);
    throw err;
  }
  chmodSync(file, 0o600);
  return id;
}

function parseIdentityFile(text: string, file: string): Identity {
  if (text.length > MAX_IDENTITY_FILE_BYTES) throw new IndexError('IDENTITY_INVALID', `${file} is too large`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new IndexError('IDENTITY_INVALID', `${file} is not valid JSON`);
  }
  const pkcs8 = (parsed as { privateKeyPkcs8?: unknown } | null)?.privateKeyPkcs8;
  if (typeof pkcs8 !== 'string') throw new IndexError('IDENTITY_INVALID', `${file} has no privateKeyPkcs8`);
  try {
    const key = createPrivateKey({ key: Buffer.from(pkcs8, 'base64'), format: 'der', type: 'pkcs8' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    return identityFromPrivateKey(key);
  } catch (err) {
    throw new IndexError('IDENTITY_INVALID', `${file} does not hold an ed25519 private key`, { cause: err });
  }
}

/**
 * Small-order ed25519 points (libsodium's blocklist, sign bit ignored). OpenSSL accepts them as
 * public keys, and a signature under one verifies for any message, so anyone could "own" or
 * take over entries of such a key: refuse them.
 */
const SMALL_ORDER_KEYS = new Set([
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
]);

/** Whether a raw public key is one of the small-order points (any sign bit). */
export function isWeakPublicKey(raw: Uint8Array): boolean {
  const masked = Uint8Array.from(raw);
  masked[31] = (masked[31] ?? 0) & 0x7f;
  return SMALL_ORDER_KEYS.has(toHex(masked));
}

const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_MAX = 4096;

/** A public KeyObject from 64-hex raw bytes; null if it is not a valid ed25519 point encoding. */
function publicKeyFromHex(hex: string): KeyObject | null {
  const cached = keyCache.get(hex);
  if (cached) return cached;
  const raw = fromHex(hex);
  if (raw?.length !== 32 || isWeakPublicKey(raw)) return null;
  let key: KeyObject;
  try {
    key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
      format: 'jwk',
    });
  } catch {
    return null;
  }
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(hex, key);
  return key;
}

/** ed25519 signature (128 hex) of `bytes`. */
export function signBytes(id: Identity, bytes: Uint8Array): string {
  return toHex(sign(null, bytes, id.privateKey));
}

/** Whether `signatureHex` is `publisherHex`'s signature of `bytes`. Never throws. */
export function verifyBytes(publisherHex: string, bytes: Uint8Array, signatureHex: string): boolean {
  const key = publicKeyFromHex(publisherHex);
  const sig = fromHex(signatureHex);
  if (!key || !sig || sig.length !== 64) return false;
  try {
    return verify(null, bytes, key, sig);
  } catch {
    return false;
  }
}

/**
 * Sign an entry as this identity. The entry is put in canonical form first
 * ({@link canonicalizeEntry}): what is signed, sent and stored is that form, byte for byte.
 */
export function signEntry(id: Identity, entry: Omit<EntryBody, 'publisher'>): SignedEntry {
  const full: EntryBody = canonicalizeEntry({ ...entry, publisher: id.publicKeyHex });
  return { entry: full, signature: signBytes(id, canonicalEntryBytes(full)) };
}

export function signRemoval(id: Identity, removal: Omit<RemovalBody, 'publisher'>): SignedRemoval {
  const full: RemovalBody = { ...removal, publisher: id.publicKeyHex };
  return { removal: full, signature: signBytes(id, canonicalRemovalBytes(full)) };
}

/**
 * Throws `BAD_SIGNATURE` unless the entry, exactly as received, is signed by its `publisher`;
 * then `ENTRY_NOT_CANONICAL` unless it is in canonical form. The index never normalises what
 * it was sent (that would store something other than what was signed); it refuses instead.
 */
export function assertEntrySignature(s: SignedEntry): void {
  if (!verifyBytes(s.entry.publisher, canonicalEntryBytes(s.entry), s.signature))
    throw new IndexError('BAD_SIGNATURE', 'the signature does not match the entry and its publisher key');
  assertCanonicalEntry(s.entry);
}

export function assertRemovalSignature(s: SignedRemoval): void {
  if (!verifyBytes(s.removal.publisher, canonicalRemovalBytes(s.removal), s.signature))
    throw new IndexError('BAD_SIGNATURE', 'the signature does not match the removal and its publisher key');
}
