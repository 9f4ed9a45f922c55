/**
 * MSE as a `Transport` wrapper: the session dials and listens as before, and gets connections
 * that encrypt and decrypt on their own, so neither `Session` nor `Torrent` knows which peers
 * are encrypted.
 *
 * Policies (what `--encryption` sets):
 *  - `prefer` (default): outgoing tries MSE first (offering RC4 and the plaintext method; a
 *    responder that also accepts both picks plaintext: obfuscated handshake, plain payload) and,
 *    when the handshake fails, dials again in plaintext; which of the two worked is remembered
 *    per peer address (bounded, expiring) so the next dial goes straight to it. Incoming: both.
 *  - `require`: outgoing MSE with RC4 only; incoming plaintext refused, RC4 required.
 *  - `off`: plaintext only; incoming MSE refused.
 *
 * Incoming connections are told apart by their first 20 bytes: a plaintext handshake starts
 * with `\x13BitTorrent protocol`, an MSE one with a public key. Both share the listen port.
 * Incoming MSE handshakes in progress are capped (each costs two modular exponentiations).
 */
import { TcpTransport } from '../net/tcp.js';
import type { Connection, DialRequest, Listener, Transport, TransportAddress } from '../net/transport.js';
import { systemScheduler } from '../util/clock.js';
import { MseError, type MseErrorCode } from './errors.js';
import {
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  classifyIncoming,
  MseInitiator,
  MseResponder,
  type MseResult,
  PLAINTEXT_PREFIX,
} from './handshake.js';
import { req2Hash } from './keys.js';
import { MseConnection } from './mse-connection.js';

export type EncryptionPolicy = 'prefer' | 'require' | 'off';
export const ENCRYPTION_POLICIES: readonly EncryptionPolicy[] = ['prefer', 'require', 'off'];

export interface MseTransportOptions {
  readonly policy: EncryptionPolicy;
  /** The info-hashes (wire form) of the torrents we serve: incoming MSE finds its torrent among them. */
  readonly infoHashes: () => Iterable<Uint8Array>;
  /** The whole handshake, after the TCP connect (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** Incoming handshakes in progress beyond this are refused (default 64). */
  readonly maxPendingHandshakes?: number;
  /** …and beyond this many from one address (default 8), so one host cannot take them all. */
  readonly maxPendingPerAddress?: number;
  /** Peers whose working method is remembered (default 4,096; the oldest is forgotten first). */
  readonly maxRememberedPeers?: number;
  /** How long a remembered method is trusted (default 1 h). */
  readonly rememberMs?: number;
  /** Every failed handshake, incoming or outgoing (logging, statistics). */
  readonly onHandshakeError?: (error: MseError, address: TransportAddress, isIncoming: boolean) => void;
  /** The clock (tests); default `Date.now`. */
  readonly now?: () => number;
}

/** Counters for tests and statistics. */
export interface MseStats {
  incomingEncrypted: number;
  incomingPlaintext: number;
  outgoingEncrypted: number;
  outgoingPlaintext: number;
  /** Outgoing MSE attempts that failed and were retried in plaintext (`prefer`). */
  fallbacks: number;
  readonly failures: Map<MseErrorCode, number>;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export class MseTransport implements Transport {
  readonly name: string;
  readonly stats: MseStats = {
    incomingEncrypted: 0,
    incomingPlaintext: 0,
    outgoingEncrypted: 0,
    outgoingPlaintext: 0,
    fallbacks: 0,
    failures: new Map(),
  };
  private readonly timeoutMs: number;
  private readonly now: () => number;
  /** `host:port` → what worked and when (insertion order = age, for eviction). */
  private readonly remembered = new Map<string, { isEncrypted: boolean; atMs: number }>();
  private readonly req2Cache = new Map<string, Uint8Array>();
  private pendingIncoming = 0;
  private readonly pendingByHost = new Map<string, number>();
  /** Raw connections still in a handshake (either direction): `close()` ends them. */
  private readonly inHandshake = new Set<Connection>();

  constructor(
    private readonly inner: Transport,
    private readonly options: MseTransportOptions,
  ) {
    this.name = options.policy === 'off' ? inner.name : `mse+${inner.name}`;
    this.timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  /** Incoming handshakes in progress (bounded by `maxPendingHandshakes`). */
  get pendingHandshakes(): number {
    return this.pendingIncoming;
  }

  async dial(address: TransportAddress, request: DialRequest = {}): Promise<Connection> {
    const { policy } = this.options;
    const infoHash = request.infoHash;
    if (policy === 'require' && !infoHash) {
      throw new MseError('MSE_NO_INFO_HASH', `cannot encrypt a dial to ${address.host} without an info-hash`);
    }
    if (policy === 'off' || !infoHash || this.recall(address) === false) {
      const plain = await this.inner.dial(address, request);
      this.stats.outgoingPlaintext++;
      return plain;
    }
    const provide = policy === 'require' ? CRYPTO_RC4 : CRYPTO_RC4 | CRYPTO_PLAINTEXT;
    const raw = await this.inner.dial(address, request);
    try {
      const conn = await this.initiate(raw, infoHash, provide, request.signal);
      this.remember(address, true);
      this.stats.outgoingEncrypted++;
      return conn;
    } catch (err) {
      const error = this.recordFailure(err, address, false);
      if (policy === 'require' || error.code === 'MSE_ABORTED') throw error;
    }
    // prefer: the peer did not speak MSE (or broke it); plaintext on a fresh connection.
    this.stats.fallbacks++;
    const plain = await this.inner.dial(address, request);
    this.remember(address, false);
    this.stats.outgoingPlaintext++;
    return plain;
  }

  listen(onConnection: (connection: Connection) => void): Promise<Listener> {
    return this.inner.listen((raw) => this.accept(raw, onConnection));
  }

  /** Stop listening and end the handshakes in progress (their timers and sockets go with them). */
  close(): Promise<void> {
    for (const raw of [...this.inHandshake]) raw.destroy(new MseError('MSE_ABORTED', 'transport closed'));
    this.inHandshake.clear();
    return this.inner.close();
  }

  /** Outgoing: run the initiator over `raw`; resolves with the encrypted connection. */
  private initiate(
    raw: Connection,
    infoHash: Uint8Array,
    provide: number,
    signal: AbortSignal | undefined,
  ): Promise<Connection> {
    const handshake = new MseInitiator({ nowMs: this.now(), timeoutMs: this.timeoutMs, infoHash, provide });
    this.inHandshake.add(raw);
    return this.drive(raw, handshake, [], signal, () => raw.write([handshake.start()])).finally(() =>
      this.inHandshake.delete(raw),
    );
  }

  /** Incoming: within the pending-handshake cap, classify and hand on (or refuse) the connection. */
  private accept(raw: Connection, onConnection: (connection: Connection) => void): void {
    const address = { host: raw.remoteAddress, port: raw.remotePort };
    const fromHost = this.pendingByHost.get(address.host) ?? 0;
    if (
      this.pendingIncoming >= (this.options.maxPendingHandshakes ?? 64) ||
      fromHost >= (this.options.maxPendingPerAddress ?? 8)
    ) {
      this.recordFailure(new MseError('MSE_BUSY', 'too many handshakes in progress'), address, true);
      raw.destroy();
      return;
    }
    this.pendingIncoming++;
    this.pendingByHost.set(address.host, fromHost + 1);
    this.inHandshake.add(raw);
    this.acceptIncoming(raw)
      .then(onConnection, (err: unknown) => {
        this.recordFailure(err, address, true);
      })
      .finally(() => {
        this.inHandshake.delete(raw);
        this.pendingIncoming--;
        const left = (this.pendingByHost.get(address.host) ?? 1) - 1;
        if (left > 0) this.pendingByHost.set(address.host, left);
        else this.pendingByHost.delete(address.host);
      });
  }

  /**
   * Plaintext (`\x13BitTorrent protocol`) or MSE, by the first bytes; then the policy decides.
   * The returned connection replays the bytes read so far; a close or data arriving before its
   * owner takes it over is held by it (see MseConnection).
   */
  private async acceptIncoming(raw: Connection): Promise<Connection> {
    const { kind, first } = await sniffFirstBytes(raw, this.timeoutMs);
    const refuse = (code: MseErrorCode, message: string): MseError => {
      const err = new MseError(code, message);
      raw.destroy(err);
      return err;
    };
    if (kind === 'plaintext') {
      if (this.options.policy === 'require')
        throw refuse('MSE_PLAINTEXT_REFUSED', 'plaintext peers are refused (require)');
      this.stats.incomingPlaintext++;
      return new MseConnection(raw, { encryptor: null, decryptor: null, pending: first, method: 'none' });
    }
    if (this.options.policy === 'off')
      throw refuse('MSE_ENCRYPTION_REFUSED', 'encrypted peers are refused (off)');
    const handshake = new MseResponder({
      nowMs: this.now(),
      timeoutMs: this.timeoutMs,
      accept: this.options.policy === 'require' ? CRYPTO_RC4 : CRYPTO_RC4 | CRYPTO_PLAINTEXT,
      lookupInfoHash: (h) => this.lookupInfoHash(h),
    });
    const conn = await this.drive(raw, handshake, first, undefined, () => {});
    this.stats.incomingEncrypted++;
    return conn;
  }

  /**
   * Feed `raw`'s bytes to `handshake` until it finishes, fails, times out, the peer closes or
   * `signal` aborts. On failure `raw` is destroyed and the promise rejects with an `MseError`.
   */
  private drive(
    raw: Connection,
    handshake: MseInitiator | MseResponder,
    already: readonly Uint8Array[],
    signal: AbortSignal | undefined,
    start: () => void,
  ): Promise<Connection> {
    return new Promise<Connection>((resolve, reject) => {
      let isSettled = false;
      const settle = (err: MseError | null, result?: MseResult) => {
        if (isSettled) return;
        isSettled = true;
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          raw.destroy(err);
          reject(err);
          return;
        }
        const r = result!;
        resolve(new MseConnection(raw, { ...r, pending: r.payload, method: r.method }));
      };
      const onAbort = () => settle(new MseError('MSE_ABORTED', 'MSE handshake aborted'));
      // The core holds the deadline (time comes in as arguments); this timer only asks it.
      const cancelTimer = systemScheduler.setTimer(this.timeoutMs, () => {
        try {
          handshake.checkDeadline(this.now());
        } catch (err) {
          return settle(asMseError(err));
        }
        settle(new MseError('MSE_TIMEOUT', 'MSE handshake timed out')); // a timer that fired early
      });
      const feed = (chunk: Uint8Array) => {
        if (isSettled) return;
        try {
          const step = handshake.receive(chunk, this.now());
          if (step.send.length > 0) raw.write(step.send);
          // The MseConnection takes over raw's callbacks synchronously: no byte is missed.
          if (step.result) settle(null, step.result);
        } catch (err) {
          settle(asMseError(err));
        }
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      raw.onClose((error) =>
        // Our own destroy reason (close(), a timeout) comes back here: keep its code.
        settle(
          error instanceof MseError
            ? error
            : new MseError('MSE_CLOSED', 'peer closed mid-handshake', { cause: error }),
        ),
      );
      raw.onData(feed);
      start();
      for (const c of already) feed(c);
    });
  }

  /** Which of our torrents the responder's HASH('req2', SKEY) names. */
  private lookupInfoHash(wanted: Uint8Array): Uint8Array | null {
    const wantedHex = Buffer.from(wanted).toString('hex');
    for (const infoHash of this.options.infoHashes()) {
      const key = Buffer.from(infoHash).toString('hex');
      let hash = this.req2Cache.get(key);
      if (!hash) {
        if (this.req2Cache.size >= 65_536) this.req2Cache.clear();
        hash = req2Hash(infoHash);
        this.req2Cache.set(key, hash);
      }
      if (Buffer.from(hash).toString('hex') === wantedHex) return infoHash;
    }
    return null;
  }

  /** true: MSE worked; false: plaintext did; undefined: unknown or expired. */
  private recall(address: TransportAddress): boolean | undefined {
    const key = peerKey(address);
    const entry = this.remembered.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.atMs > (this.options.rememberMs ?? 3_600_000)) {
      this.remembered.delete(key);
      return undefined;
    }
    return entry.isEncrypted;
  }

  private remember(address: TransportAddress, isEncrypted: boolean): void {
    const key = peerKey(address);
    this.remembered.delete(key);
    this.remembered.set(key, { isEncrypted, atMs: this.now() });
    const max = this.options.maxRememberedPeers ?? 4096;
    while (this.remembered.size > max) this.remembered.delete(this.remembered.keys().next().value!);
  }

  private recordFailure(err: unknown, address: TransportAddress, isIncoming: boolean): MseError {
    const error = asMseError(err);
    this.stats.failures.set(error.code, (this.stats.failures.get(error.code) ?? 0) + 1);
    this.options.onHandshakeError?.(error, address, isIncoming);
    return error;
  }
}

/**
 * Read until the first bytes tell plaintext from MSE (at most 20 are needed). Rejects (and
 * destroys `raw`) on a close or after `timeoutMs`. `first` holds every chunk read so far.
 */
function sniffFirstBytes(
  raw: Connection,
  timeoutMs: number,
): Promise<{ kind: 'plaintext' | 'mse'; first: Uint8Array[] }> {
  return new Promise((resolve, reject) => {
    const first: Uint8Array[] = [];
    let bytes = 0;
    let isDone = false;
    const finish = (err: MseError | null, kind: 'plaintext' | 'mse' = 'mse') => {
      if (isDone) return;
      isDone = true;
      cancelTimer();
      if (!err) return resolve({ kind, first });
      raw.destroy(err);
      reject(err);
    };
    const cancelTimer = systemScheduler.setTimer(timeoutMs, () =>
      finish(new MseError('MSE_TIMEOUT', 'no handshake within the timeout')),
    );
    raw.onClose(() => finish(new MseError('MSE_CLOSED', 'closed before the handshake')));
    raw.onData((chunk) => {
      first.push(chunk); // after `finish` too: kept for whoever takes the connection over
      if (isDone) return;
      bytes += chunk.length;
      const kind = classifyIncoming(Buffer.concat(first, Math.min(bytes, PLAINTEXT_PREFIX.length)));
      if (kind !== 'need-more') finish(null, kind);
    });
  });
}

function peerKey(address: TransportAddress): string {
  return `${address.host}:${address.port}`;
}

function asMseError(err: unknown): MseError {
  if (err instanceof MseError) return err;
  return new MseError('MSE_CLOSED', err instanceof Error ? err.message : String(err), { cause: err });
}

/** `--encryption prefer|require|off`; null for anything else. */
export function parseEncryptionPolicy(text: string): EncryptionPolicy | null {
  return (ENCRYPTION_POLICIES as readonly string[]).includes(text) ? (text as EncryptionPolicy) : null;
}

/**
 * Session options for a policy: `off` leaves the session its own TCP transport (and the UDP
 * port it shares with it); otherwise TCP on `host`/`port` wrapped in MSE. `infoHashesHex` is
 * read at each incoming MSE handshake (late-bound: the session is made after its transport).
 */
export function encryptionTransportOptions(
  policy: EncryptionPolicy,
  options: { host?: string; port?: number; infoHashesHex: () => Iterable<string> },
): { transport?: Transport } {
  if (policy === 'off') return {};
  const tcp = new TcpTransport({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  const infoHashes = function* (): Iterable<Uint8Array> {
    for (const h of options.infoHashesHex()) yield Buffer.from(h, 'hex');
  };
  return { transport: new MseTransport(tcp, { policy, infoHashes }) };
}
