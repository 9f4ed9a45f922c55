/**
 * The handoff as a `Transport` wrapper (like MseTransport): every connection, either way, runs
 * the PAKE handshake (handshake.ts), then the offer exchange on the encrypted channel, and only
 * then reaches the session, as a `ChannelConnection`. The session, its torrents, BEP 9 and the
 * piece exchange run unchanged on top; none of their bytes is ever sent in the clear.
 *
 *   incoming (we respond):  handshake → we send our offer → they accept (or decline) → session
 *   outgoing (we initiate): handshake → their offer → `answerOffer` decides → accept → session
 *
 * A responder that revealed its share and got no valid confirmation reports a failed attempt
 * (`onFailedAttempt`): the owner decides how many it tolerates (the sender: one, see sender.ts).
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import type { Connection, DialRequest, Listener, Transport, TransportAddress } from '../net/transport.js';
import { type CancelTimer, systemScheduler } from '../util/clock.js';
import { PeerdropError } from '../util/errors.js';
import { ChannelConnection } from './channel.js';
import type { ControlMessage, Offer } from './control.js';
import { FrameOpener, FrameSealer } from './frames.js';
import {
  HandshakeError,
  HandshakeInitiator,
  HandshakeResponder,
  type HandshakeResult,
  type HandshakeStep,
} from './handshake.js';

export type HandoffErrorCode =
  | 'HANDOFF_TIMEOUT'
  | 'HANDOFF_CLOSED'
  | 'HANDOFF_DECLINED'
  | 'HANDOFF_REFUSED'
  | 'HANDOFF_OFFER_CHANGED'
  | 'HANDOFF_ABORTED';

export class HandoffError extends PeerdropError {}

export interface HandoffTransportOptions {
  /** TCP (or the in-memory network in simulations). */
  readonly inner: Transport;
  /** The code's canonical text: the PAKE password. */
  readonly code: string;
  readonly randomBytes?: (n: number) => Uint8Array;
  /** Handshake plus offer exchange (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** What we offer to whoever dials us; null refuses incoming connections (not ready yet). */
  readonly offer: () => Offer | null;
  /** An incoming peer accepted our offer (its listen port for other receivers, 0 for none). */
  readonly onAccepted?: (connection: ChannelConnection, port: number) => void;
  /** An incoming peer declined our offer. */
  readonly onDeclined?: (address: TransportAddress) => void;
  /** An incoming handshake that consumed a guess failed (wrong code, or it left before confirming). */
  readonly onFailedAttempt?: (address: TransportAddress, error: Error) => void;
  /**
   * Outgoing: what to answer to the other side's offer. A port (≥ 0) accepts, null declines
   * (the dial then rejects with `HANDOFF_DECLINED`); a throw rejects the dial with it.
   */
  readonly answerOffer: (offer: Offer, connection: ChannelConnection) => Promise<number | null>;
  /** Incoming handshakes in progress beyond this are refused (default 16, 4 per address). */
  readonly maxPendingHandshakes?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class HandoffTransport implements Transport {
  readonly name: string;
  private readonly adopted = new Map<string, ChannelConnection>();
  private readonly inProgress = new Set<Connection>();
  private readonly pendingByHost = new Map<string, number>();
  private readonly random: (n: number) => Uint8Array;

  constructor(private readonly options: HandoffTransportOptions) {
    this.name = `handoff+${options.inner.name}`;
    this.random = options.randomBytes ?? ((n) => new Uint8Array(cryptoRandomBytes(n)));
  }

  private get timeoutMs(): number {
    return this.options.handshakeTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * Dial and run the handshake and offer exchange without a session: returns the channel and the
   * offer, not yet answered (the receiver asks its user first, then `accept`s).
   */
  async connect(
    address: TransportAddress,
    request: DialRequest = {},
  ): Promise<{ connection: ChannelConnection; offer: Offer }> {
    const raw = await this.options.inner.dial(address, request);
    const initiator = new HandshakeInitiator(this.options.code, this.random);
    const result = await this.drive(raw, initiator, request.signal, () => raw.write([initiator.hello()]));
    const connection = this.channelOf(raw, result);
    const offer = await this.nextControl(connection, request.signal).then((m) => {
      if (m.t !== 'offer') throw new HandoffError('HANDOFF_REFUSED', 'the peer did not send an offer');
      return m.offer;
    });
    return { connection, offer };
  }

  /** Hand a connection made by `connect` (and accepted) to the session's next dial of `address`. */
  adopt(address: TransportAddress, connection: ChannelConnection): void {
    this.adopted.set(keyOf(address), connection);
  }

  async dial(address: TransportAddress, request: DialRequest = {}): Promise<Connection> {
    const key = keyOf(address);
    const held = this.adopted.get(key);
    if (held) {
      this.adopted.delete(key);
      if (!held.isClosed) return held;
    }
    const { connection, offer } = await this.connect(address, request);
    let port: number | null;
    try {
      port = await this.options.answerOffer(offer, connection);
    } catch (err) {
      connection.destroy();
      throw err;
    }
    if (port === null) {
      connection.sendControl({ t: 'decline' });
      connection.destroy();
      throw new HandoffError('HANDOFF_DECLINED', 'declined the offer');
    }
    connection.sendControl({ t: 'accept', port });
    return connection;
  }

  listen(onConnection: (connection: Connection) => void): Promise<Listener> {
    return this.options.inner.listen((raw) => this.accept(raw, onConnection));
  }

  close(): Promise<void> {
    for (const raw of [...this.inProgress])
      raw.destroy(new HandoffError('HANDOFF_ABORTED', 'transport closed'));
    this.inProgress.clear();
    for (const c of this.adopted.values()) c.destroy();
    this.adopted.clear();
    return this.options.inner.close();
  }

  private accept(raw: Connection, onConnection: (connection: Connection) => void): void {
    const address = { host: raw.remoteAddress, port: raw.remotePort };
    const fromHost = this.pendingByHost.get(address.host) ?? 0;
    const offer = this.options.offer();
    if (!offer || this.inProgress.size >= (this.options.maxPendingHandshakes ?? 16) || fromHost >= 4) {
      raw.destroy();
      return;
    }
    this.pendingByHost.set(address.host, fromHost + 1);
    const responder = new HandshakeResponder(this.options.code, this.random);
    this.drive(raw, responder, undefined, () => {})
      .then(
        async (result) => {
          const connection = this.channelOf(raw, result);
          connection.sendControl({ t: 'offer', offer });
          const answer = await this.nextControl(connection, undefined);
          if (answer.t === 'decline') {
            this.options.onDeclined?.(address);
            connection.destroy();
            return;
          }
          if (answer.t !== 'accept') throw new HandoffError('HANDOFF_REFUSED', 'expected accept or decline');
          this.options.onAccepted?.(connection, answer.port);
          onConnection(connection);
        },
        (err: unknown) => {
          if (responder.hasRevealedShare)
            this.options.onFailedAttempt?.(address, err instanceof Error ? err : new Error(String(err)));
        },
      )
      .catch(() => raw.destroy())
      .finally(() => {
        const left = (this.pendingByHost.get(address.host) ?? 1) - 1;
        if (left > 0) this.pendingByHost.set(address.host, left);
        else this.pendingByHost.delete(address.host);
      });
  }

  private channelOf(raw: Connection, result: HandshakeResult & { late: Uint8Array[] }): ChannelConnection {
    return new ChannelConnection(raw, new FrameSealer(result.sendKey), new FrameOpener(result.receiveKey), [
      result.rest,
      ...result.late,
    ]);
  }

  /** The next control message, within the handshake timeout. */
  private nextControl(
    connection: ChannelConnection,
    signal: AbortSignal | undefined,
  ): Promise<ControlMessage> {
    return new Promise((resolve, reject) => {
      let cancel: CancelTimer = () => {};
      const fail = (err: Error) => {
        cancel();
        signal?.removeEventListener('abort', onAbort);
        connection.destroy(err);
        reject(err);
      };
      const onAbort = () => fail(new HandoffError('HANDOFF_ABORTED', 'aborted'));
      cancel = systemScheduler.setTimer(this.timeoutMs, () =>
        fail(new HandoffError('HANDOFF_TIMEOUT', 'the peer did not answer in time')),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      connection.onClose((error) =>
        fail(error ?? new HandoffError('HANDOFF_CLOSED', 'the peer closed the connection')),
      );
      connection.onControl((m) => {
        cancel();
        signal?.removeEventListener('abort', onAbort);
        connection.onControl(() => {});
        connection.onClose(() => {});
        resolve(m);
      });
    });
  }

  /** Feed `raw` to a handshake until it finishes, fails, times out, closes or is aborted. */
  private drive(
    raw: Connection,
    handshake: HandshakeInitiator | HandshakeResponder,
    signal: AbortSignal | undefined,
    start: () => void,
  ): Promise<HandshakeResult & { late: Uint8Array[] }> {
    this.inProgress.add(raw);
    const late: Uint8Array[] = [];
    return new Promise((resolve, reject) => {
      let isSettled = false;
      const settle = (err: Error | null, result?: HandshakeResult) => {
        if (isSettled) return;
        isSettled = true;
        cancel();
        this.inProgress.delete(raw);
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          raw.destroy(err);
          reject(err);
        } else resolve({ ...result!, late });
      };
      const onAbort = () => settle(new HandoffError('HANDOFF_ABORTED', 'handshake aborted'));
      const cancel = systemScheduler.setTimer(this.timeoutMs, () =>
        settle(new HandoffError('HANDOFF_TIMEOUT', 'no handshake within the timeout')),
      );
      raw.onClose((error) =>
        settle(
          error instanceof HandshakeError || error instanceof HandoffError
            ? error
            : new HandoffError('HANDOFF_CLOSED', 'the peer closed during the handshake', { cause: error }),
        ),
      );
      raw.onData((chunk) => {
        // Settled but not yet taken over (the owner runs on a microtask): keep for the channel.
        if (isSettled) return void late.push(chunk);
        let step: HandshakeStep;
        try {
          step = handshake.receive(chunk);
        } catch (err) {
          settle(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (step.send) raw.write([step.send]);
        // The channel takes raw's callbacks over synchronously: no byte is missed.
        if (step.result) settle(null, step.result);
      });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      start();
    });
  }
}

function keyOf(a: TransportAddress): string {
  return `${a.host}:${a.port}`;
}
