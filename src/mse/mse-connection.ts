/**
 * A `Connection` after the MSE handshake: what the session writes is encrypted into new buffers
 * (never in place: the wire layer hands out views of pooled and cached buffers), what arrives
 * is decrypted into new buffers, and everything else (backpressure, counters, close) is the
 * inner connection's. `bytesRead`/`bytesWritten` therefore count wire bytes, handshake included.
 *
 * Bytes that arrived with the handshake (the responder's IA, a peer's first messages in the same
 * read, or the 20 bytes we peeked to tell plaintext from MSE) are held until the owner sets
 * `onData`, then delivered first, in order, on a microtask, so an owner that sets its callbacks
 * one after another in a constructor misses nothing.
 */
import type { Connection } from '../net/transport.js';
import { WrappedConnection } from '../net/wrapped-connection.js';
import type { CryptoMethod } from './handshake.js';
import type { Rc4 } from './rc4.js';

export interface MseConnectionOptions {
  /** `null` for a plaintext connection (a plaintext peer, or the plaintext crypto method). */
  readonly encryptor: Rc4 | null;
  readonly decryptor: Rc4 | null;
  /** Already decrypted bytes to deliver before anything else. */
  readonly pending?: readonly Uint8Array[];
  /** How the connection was negotiated: `none` for a plaintext BitTorrent handshake. */
  readonly method: CryptoMethod | 'none';
}

export class MseConnection extends WrappedConnection {
  readonly method: CryptoMethod | 'none';
  private readonly encryptor: Rc4 | null;
  private readonly decryptor: Rc4 | null;

  constructor(inner: Connection, options: MseConnectionOptions) {
    super(inner);
    this.method = options.method;
    this.encryptor = options.encryptor;
    this.decryptor = options.decryptor;
    for (const c of options.pending ?? []) if (c.length > 0) this.pending.push(c);
    inner.onData((chunk) => this.deliver(this.decryptor ? this.decryptor.process(chunk) : chunk));
  }

  /** One new buffer per call: the chunks encrypted back to back (the keystream is sequential). */
  write(chunks: readonly Uint8Array[]): boolean {
    const rc4 = this.encryptor;
    if (!rc4 || this.inner.isClosed) return this.inner.write(chunks);
    let total = 0;
    for (const c of chunks) total += c.length;
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      rc4.processInto(c, out, at);
      at += c.length;
    }
    return this.inner.write([out]);
  }
}
