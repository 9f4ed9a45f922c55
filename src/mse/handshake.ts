/**
 * The MSE handshake (BEP 8; the Vuze "Message Stream Encryption" spec) as two pure state
 * machines: bytes and the current time in, bytes to send and a result out. No sockets, no
 * timers: the transport feeds `receive(chunk, nowMs)` and calls `checkDeadline(nowMs)` from its
 * own timer.
 *
 *   1 A→B  Ya, PadA
 *   2 B→A  Yb, PadB
 *   3 A→B  HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
 *          ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
 *   4 B→A  ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
 *   5 A→B  ENCRYPT2(payload)
 *
 * ENCRYPT is RC4 (keyA for A's direction, keyB for B's, first 1,024 keystream bytes dropped);
 * ENCRYPT2 is the selected method, RC4 continuing the same keystreams, or plaintext. Pads are
 * 0–512 bytes, so each side finds its place by searching for a known value in a bounded
 * window: B looks for HASH('req1', S) in the 532 bytes after Ya (628 from the start), A looks
 * for ENCRYPT(VC) in the 520 bytes after Yb (616 from the start).
 *
 * Every failure is an `MseError` with a stable code; nothing else escapes for any input.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { ByteQueue, indexOfBytes } from './byte-queue.js';
import { MseError, type MseErrorCode } from './errors.js';
import {
  deriveKeys,
  KEY_BYTES,
  PRIVATE_KEY_BYTES,
  publicKeyFor,
  req2Hash as req2HashOf,
  sha1,
  sharedSecret,
  xor20,
} from './keys.js';
import { Rc4 } from './rc4.js';

/** crypto_provide / crypto_select bits. */
export const CRYPTO_PLAINTEXT = 0x01;
export const CRYPTO_RC4 = 0x02;
export type CryptoMethod = 'plaintext' | 'rc4';

export const MAX_PAD_BYTES = 512;
export const VC_BYTES = 8;
export const RC4_DISCARD_BYTES = 1024;
/** Where B searches for HASH('req1', S) after Ya: PadA (≤ 512) then the 20-byte hash. */
export const REQ1_SEARCH_BYTES = MAX_PAD_BYTES + 20;
/** Where A searches for ENCRYPT(VC) after Yb: PadB (≤ 512) then the 8-byte VC. */
export const VC_SEARCH_BYTES = MAX_PAD_BYTES + VC_BYTES;
/** Our limit on len(IA): a BitTorrent handshake plus a large bitfield fit; the field allows 64 KiB. */
export const MAX_IA_BYTES = 32 * 1024;
/** Bytes buffered before the handshake finishes: every step's need plus a socket read of slack. */
export const MAX_BUFFERED_BYTES = 256 * 1024;
/** The plaintext BitTorrent handshake starts with this (BEP 3). */
export const PLAINTEXT_PREFIX = Uint8Array.from(Buffer.from('\x13BitTorrent protocol', 'latin1'));

/** The four pads of the handshake: A, B in the clear (random bytes), C, D encrypted. */
export type PadName = 'A' | 'B' | 'C' | 'D';

/** What a finished handshake hands to the connection. */
export interface MseResult {
  readonly method: CryptoMethod;
  /** The torrent this connection is for (the initiator's, or the one the responder found). */
  readonly infoHash: Uint8Array;
  /** Continues the keystream for what we send; null when plaintext was selected. */
  readonly encryptor: Rc4 | null;
  /** Continues the keystream for what we receive; null when plaintext was selected. */
  readonly decryptor: Rc4 | null;
  /** Payload that arrived with the handshake, decrypted, in order (the responder: IA first). */
  readonly payload: readonly Uint8Array[];
}

export interface HandshakeStep {
  /** Write these to the peer now, in order. */
  readonly send: readonly Uint8Array[];
  /** Set once the handshake is complete. */
  readonly result: MseResult | null;
}

export interface HandshakeOptions {
  /** When the handshake started (the transport's clock). */
  readonly nowMs: number;
  /** The whole handshake must finish within this (a stalled peer fails with `MSE_TIMEOUT`). */
  readonly timeoutMs: number;
  /** Our DH private key, big-endian (tests and known-answer vectors); default 20 random bytes. */
  readonly privateKey?: Uint8Array;
  readonly randomBytes?: (n: number) => Uint8Array;
  /** Length of each pad we send (clamped to 0–512). Default: A and B random, C and D empty. */
  readonly padLength?: (pad: PadName) => number;
}

/** How the first bytes of an incoming connection read: plaintext BitTorrent, MSE, or not yet known. */
export function classifyIncoming(firstBytes: Uint8Array): 'plaintext' | 'mse' | 'need-more' {
  const n = Math.min(firstBytes.length, PLAINTEXT_PREFIX.length);
  for (let i = 0; i < n; i++) if (firstBytes[i] !== PLAINTEXT_PREFIX[i]) return 'mse';
  return n === PLAINTEXT_PREFIX.length ? 'plaintext' : 'need-more';
}

function fail(code: MseErrorCode, message: string): never {
  throw new MseError(code, message);
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

/** State shared by both sides: the receive queue, the deadline, the DH key pair, pads. */
abstract class MseHandshake {
  protected readonly queue = new ByteQueue();
  protected readonly privateKey: Uint8Array;
  protected readonly randomBytes: (n: number) => Uint8Array;
  private readonly padLength: (pad: PadName) => number;
  private readonly deadlineMs: number;
  private isOver = false;

  constructor(options: HandshakeOptions) {
    this.randomBytes = options.randomBytes ?? ((n) => new Uint8Array(nodeRandomBytes(n)));
    this.privateKey = options.privateKey ?? this.randomBytes(PRIVATE_KEY_BYTES);
    this.padLength = options.padLength ?? defaultPadLength(this.randomBytes);
    this.deadlineMs = options.nowMs + options.timeoutMs;
  }

  /** Throws `MSE_TIMEOUT` once the deadline has passed (call it from a timer). */
  checkDeadline(nowMs: number): void {
    if (!this.isOver && nowMs >= this.deadlineMs) {
      this.isOver = true;
      fail('MSE_TIMEOUT', 'MSE handshake timed out');
    }
  }

  /** Feed bytes from the peer. Throws an `MseError` on any protocol violation. */
  receive(chunk: Uint8Array, nowMs: number): HandshakeStep {
    if (this.isOver) fail('MSE_BAD_STATE', 'MSE handshake already finished');
    try {
      this.checkDeadline(nowMs);
      if (this.queue.length + chunk.length > MAX_BUFFERED_BYTES) {
        fail('MSE_TOO_MUCH_DATA', `over ${MAX_BUFFERED_BYTES} bytes before the handshake finished`);
      }
      // Owned copy: the caller may reuse its buffer once we return (bounded by the check above).
      this.queue.push(chunk.slice());
      const send: Uint8Array[] = [];
      const result = this.advance(send);
      if (result) this.isOver = true;
      return { send, result };
    } catch (err) {
      this.isOver = true;
      throw err;
    }
  }

  /** Run as many steps as the buffered bytes allow; the result once done. */
  protected abstract advance(send: Uint8Array[]): MseResult | null;

  protected pad(which: PadName): Uint8Array {
    const n = Math.max(0, Math.min(MAX_PAD_BYTES, Math.floor(this.padLength(which))));
    // A and B travel in the clear: random bytes. C and D are encrypted: zeros will do.
    return which === 'A' || which === 'B' ? this.randomBytes(n) : new Uint8Array(n);
  }

  /**
   * Search `needle` in the next `window` bytes; consume through it when found. Returns false
   * while not found and the window is not yet full; throws `code` once it is.
   */
  protected syncOn(needle: Uint8Array, window: number, code: MseErrorCode): boolean {
    const have = Math.min(this.queue.length, window);
    const at = indexOfBytes(this.queue.peek(have), needle);
    if (at >= 0) {
      this.queue.skip(at + needle.length);
      return true;
    }
    if (have >= window) fail(code, `sync value not found within ${window} bytes`);
    return false;
  }

  /** The rest of the queue as payload: decrypted (RC4) or copied (plaintext). */
  protected drainPayload(decryptor: Rc4 | null, first: Uint8Array[] = []): Uint8Array[] {
    const rest = this.queue.drain().map((c) => (decryptor ? decryptor.process(c) : c.slice()));
    return [...first, ...rest].filter((c) => c.length > 0);
  }
}

function defaultPadLength(randomBytes: (n: number) => Uint8Array): (pad: PadName) => number {
  return (pad) => {
    if (pad === 'C' || pad === 'D') return 0;
    const r = randomBytes(2);
    return ((r[0]! << 8) | r[1]!) % (MAX_PAD_BYTES + 1);
  };
}

export interface InitiatorOptions extends HandshakeOptions {
  readonly infoHash: Uint8Array;
  /** crypto_provide: the methods we offer (CRYPTO_RC4 and/or CRYPTO_PLAINTEXT). */
  readonly provide: number;
  /** Sent encrypted inside message 3 (the spec's IA), e.g. the BitTorrent handshake. */
  readonly initialPayload?: Uint8Array;
}

type InitiatorState = 'new' | 'yb' | 'vc' | 'select' | 'padD';

/** The side that dials and knows the info-hash (the spec's A). */
export class MseInitiator extends MseHandshake {
  private state: InitiatorState = 'new';
  private encryptor: Rc4 | null = null;
  private decryptor: Rc4 | null = null;
  private encryptedVc: Uint8Array | null = null;
  private method: CryptoMethod = 'rc4';
  private padDBytes = 0;

  constructor(private readonly options: InitiatorOptions) {
    super(options);
    if (options.infoHash.length !== 20) throw new RangeError('info-hash must be 20 bytes');
    if ((options.provide & (CRYPTO_RC4 | CRYPTO_PLAINTEXT)) === 0) throw new RangeError('nothing to provide');
    if ((options.initialPayload?.length ?? 0) > MAX_IA_BYTES)
      throw new RangeError('initial payload too long');
  }

  /** Message 1: Ya and PadA. */
  start(): Uint8Array {
    if (this.state !== 'new') fail('MSE_BAD_STATE', 'MSE handshake already started');
    this.state = 'yb';
    return Buffer.concat([publicKeyFor(this.privateKey), this.pad('A')]);
  }

  protected advance(send: Uint8Array[]): MseResult | null {
    if (this.state === 'new') fail('MSE_BAD_STATE', 'receive before start');
    if (this.state === 'yb') {
      if (this.queue.length < KEY_BYTES) return null;
      send.push(this.message3(this.queue.take(KEY_BYTES)));
      this.state = 'vc';
    }
    if (this.state === 'vc') {
      if (!this.syncOn(this.encryptedVc!, VC_SEARCH_BYTES, 'MSE_VC_NOT_FOUND')) return null;
      this.state = 'select';
    }
    if (this.state === 'select') {
      if (this.queue.length < 6) return null;
      const head = this.decryptor!.process(this.queue.take(6));
      const select = readU32(head, 0);
      if ((select !== CRYPTO_RC4 && select !== CRYPTO_PLAINTEXT) || (select & this.options.provide) === 0) {
        fail('MSE_BAD_SELECT', `crypto_select ${select} was not offered (${this.options.provide})`);
      }
      this.method = select === CRYPTO_RC4 ? 'rc4' : 'plaintext';
      this.padDBytes = readU16(head, 4);
      if (this.padDBytes > MAX_PAD_BYTES) fail('MSE_PAD_TOO_LONG', `len(PadD) ${this.padDBytes}`);
      this.state = 'padD';
    }
    if (this.queue.length < this.padDBytes) return null;
    this.queue.skip(this.padDBytes);
    this.decryptor!.skip(this.padDBytes);
    const isRc4 = this.method === 'rc4';
    return {
      method: this.method,
      infoHash: this.options.infoHash,
      encryptor: isRc4 ? this.encryptor : null,
      decryptor: isRc4 ? this.decryptor : null,
      payload: this.drainPayload(isRc4 ? this.decryptor : null),
    };
  }

  /** Message 3, once Yb is known: the sync hash, the obfuscated info-hash, the encrypted offer. */
  private message3(peerKey: Uint8Array): Uint8Array {
    const secret = sharedSecret(this.privateKey, peerKey);
    const keys = deriveKeys(secret, this.options.infoHash);
    this.encryptor = new Rc4(keys.keyA, RC4_DISCARD_BYTES);
    this.decryptor = new Rc4(keys.keyB, RC4_DISCARD_BYTES);
    this.encryptedVc = this.decryptor.process(new Uint8Array(VC_BYTES));
    const padC = this.pad('C');
    const ia = this.options.initialPayload ?? new Uint8Array(0);
    const plain = new Uint8Array(VC_BYTES + 4 + 2 + padC.length + 2 + ia.length);
    const view = new DataView(plain.buffer);
    view.setUint32(VC_BYTES, this.options.provide);
    view.setUint16(VC_BYTES + 4, padC.length);
    plain.set(padC, VC_BYTES + 6);
    view.setUint16(VC_BYTES + 6 + padC.length, ia.length);
    plain.set(ia, VC_BYTES + 8 + padC.length);
    return Buffer.concat([keys.req1, keys.req2xor3, this.encryptor.process(plain)]);
  }
}

export interface ResponderOptions extends HandshakeOptions {
  /**
   * Which of our torrents has HASH('req2', infoHash) equal to `req2Hash` (the responder removes
   * HASH('req3', S) first); null for none. {@link req2Hash} computes the value per torrent.
   */
  readonly lookupInfoHash: (req2Hash: Uint8Array) => Uint8Array | null;
  /** The methods we accept (CRYPTO_RC4 and/or CRYPTO_PLAINTEXT); plaintext is chosen when both match. */
  readonly accept: number;
}

export { req2HashOf as req2Hash };

type ResponderState = 'ya' | 'req1' | 'offer' | 'padC' | 'ia';

/** The side that accepts the connection and learns the torrent from it (the spec's B). */
export class MseResponder extends MseHandshake {
  private state: ResponderState = 'ya';
  private secret: Uint8Array | null = null;
  private req1: Uint8Array | null = null;
  private infoHash: Uint8Array | null = null;
  private encryptor: Rc4 | null = null;
  private decryptor: Rc4 | null = null;
  private select = CRYPTO_RC4;
  private padCBytes = 0;
  private iaBytes = 0;

  constructor(private readonly options: ResponderOptions) {
    super(options);
  }

  protected advance(send: Uint8Array[]): MseResult | null {
    if (this.state === 'ya') {
      if (this.queue.length < KEY_BYTES) return null;
      this.secret = sharedSecret(this.privateKey, this.queue.take(KEY_BYTES));
      this.req1 = sha1('req1', this.secret);
      send.push(Buffer.concat([publicKeyFor(this.privateKey), this.pad('B')]));
      this.state = 'req1';
    }
    if (this.state === 'req1') {
      if (!this.syncOn(this.req1!, REQ1_SEARCH_BYTES, 'MSE_SYNC_NOT_FOUND')) return null;
      this.state = 'offer';
    }
    if (this.state === 'offer') {
      if (this.queue.length < 20 + VC_BYTES + 6) return null;
      this.readOffer();
      this.state = 'padC';
    }
    if (this.state === 'padC') {
      if (this.queue.length < this.padCBytes + 2) return null;
      this.queue.skip(this.padCBytes);
      this.decryptor!.skip(this.padCBytes);
      this.iaBytes = readU16(this.decryptor!.process(this.queue.take(2)), 0);
      if (this.iaBytes > MAX_IA_BYTES)
        fail('MSE_IA_TOO_LONG', `len(IA) ${this.iaBytes} over ${MAX_IA_BYTES}`);
      this.state = 'ia';
    }
    if (this.queue.length < this.iaBytes) return null;
    // IA is always RC4 (the initiator did not know the selected method when it sent it).
    const ia = this.decryptor!.process(this.queue.take(this.iaBytes));
    send.push(this.message4());
    const isRc4 = this.select === CRYPTO_RC4;
    return {
      method: isRc4 ? 'rc4' : 'plaintext',
      infoHash: this.infoHash!,
      encryptor: isRc4 ? this.encryptor : null,
      decryptor: isRc4 ? this.decryptor : null,
      payload: this.drainPayload(isRc4 ? this.decryptor : null, [ia]),
    };
  }

  /** HASH('req2', SKEY) xor HASH('req3', S), then ENCRYPT(VC, crypto_provide, len(PadC)). */
  private readOffer(): void {
    const req2 = xor20(this.queue.take(20), sha1('req3', this.secret!));
    const infoHash = this.options.lookupInfoHash(req2);
    if (!infoHash) fail('MSE_UNKNOWN_INFO_HASH', 'no torrent matches the obfuscated info-hash');
    this.infoHash = infoHash;
    const keys = deriveKeys(this.secret!, infoHash);
    this.decryptor = new Rc4(keys.keyA, RC4_DISCARD_BYTES);
    this.encryptor = new Rc4(keys.keyB, RC4_DISCARD_BYTES);
    const head = this.decryptor.process(this.queue.take(VC_BYTES + 6));
    for (let i = 0; i < VC_BYTES; i++)
      if (head[i] !== 0) fail('MSE_BAD_VC', 'verification constant mismatch');
    const provide = readU32(head, VC_BYTES);
    const common = provide & this.options.accept;
    // The plaintext method when both sides allow it (`prefer`): the handshake is still
    // obfuscated, which is what gets past filters of the plaintext handshake, and the payload
    // costs neither side RC4's CPU; libtorrent chooses the same by default (prefer_rc4 off).
    // The payload is then readable on the path: peers that want it hidden offer RC4 only,
    // and `require` accepts RC4 only. RC4 when that is all the peer offers.
    if ((common & CRYPTO_PLAINTEXT) !== 0) this.select = CRYPTO_PLAINTEXT;
    else if ((common & CRYPTO_RC4) !== 0) this.select = CRYPTO_RC4;
    else fail('MSE_NO_COMMON_METHOD', `crypto_provide ${provide}, we accept ${this.options.accept}`);
    this.padCBytes = readU16(head, VC_BYTES + 4);
    if (this.padCBytes > MAX_PAD_BYTES) fail('MSE_PAD_TOO_LONG', `len(PadC) ${this.padCBytes}`);
  }

  /** Message 4: ENCRYPT(VC, crypto_select, len(PadD), PadD). */
  private message4(): Uint8Array {
    const padD = this.pad('D');
    const plain = new Uint8Array(VC_BYTES + 6 + padD.length);
    const view = new DataView(plain.buffer);
    view.setUint32(VC_BYTES, this.select);
    view.setUint16(VC_BYTES + 4, padD.length);
    plain.set(padD, VC_BYTES + 6);
    return this.encryptor!.process(plain);
  }
}
