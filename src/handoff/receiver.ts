/**
 * The receiving side: find the sender (LAN and/or DHT, or a given address), run the PAKE, show
 * the offer, and only when it is accepted start a session whose only transport is the handoff:
 * the info dictionary arrives over BEP 9 and must hash to the offered info-hash, must list the
 * offered files, and every piece is hash-checked before it counts. Paths go through the same
 * safe-path rules as any torrent. Resume records live in the state folder, so running the same
 * command again continues.
 */
import { randomBytes } from 'node:crypto';
import { TcpTransport } from '../net/tcp.js';
import type { Transport } from '../net/transport.js';
import { Session } from '../session/session.js';
import type { TorrentHandle } from '../session/torrent-handle.js';
import type { TorrentStatus } from '../session/torrent-types.js';
import { systemScheduler } from '../util/clock.js';
import type { PeerAddress } from '../util/ip.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { ChannelConnection } from './channel.js';
import type { HandoffCode } from './code.js';
import { ControlError, type Offer, offerMismatch } from './control.js';
import { HandoffError, HandoffTransport } from './handoff-transport.js';
import { HandshakeError } from './handshake.js';
import { Candidates, type DhtOptions, findOnDht, findOnLan, type LanOptions } from './meet.js';
import { formatHint } from './rendezvous.js';

export interface ReceiveOptions {
  readonly code: HandoffCode;
  /** Download folder: the offer's file or folder is created inside it. */
  readonly dir: string;
  /** Asked once the offer is in; false declines (nothing is written). */
  readonly confirm: (offer: Offer) => Promise<boolean>;
  readonly stateDir?: string;
  /** Accept other receivers of the same offer and swarm with them (`--multi`). */
  readonly isMulti?: boolean;
  /**
   * `--multi`: once complete, keep serving receivers that are still downloading from us, until
   * none has been left for a few seconds or this long has passed (default 10 min; 0: leave at once).
   */
  readonly serveOthersMs?: number;
  /** Listen address for other receivers (default all IPv4). */
  readonly host?: string;
  readonly lan?: LanOptions | false;
  readonly dht?: DhtOptions | false;
  /** Skip the rendezvous: the sender is here. */
  readonly senderAddress?: PeerAddress;
  /** Give up finding the sender after this long (default 60 s). */
  readonly findTimeoutMs?: number;
  readonly transport?: Transport;
  readonly signal?: AbortSignal;
}

export interface ReceiveResult {
  readonly offer: Offer;
  readonly dir: string;
}

export interface ReceiverEvents {
  [key: string]: (...args: never[]) => void;
  offer: (offer: Offer) => void;
  progress: (status: TorrentStatus) => void;
  /** The first piece arrived and was verified. */
  firstPiece: () => void;
  /** Every file is verified (with --multi, serving the others may go on before `receive` resolves). */
  complete: () => void;
}

export class HandoffReceiver extends TypedEmitter<ReceiverEvents> {
  session: Session | null = null;
  handle: TorrentHandle | null = null;
  offer: Offer | null = null;
  /** Connections to the sender (the first, and any redial): `complete` goes on each. */
  readonly toSender = new Set<ChannelConnection>();

  /** @internal `receive` reports through this. */
  report<K extends keyof ReceiverEvents>(event: K, ...args: Parameters<ReceiverEvents[K]>): void {
    this.emit(event, ...args);
  }

  private readonly abort = new AbortController();
  /** Aborted by `close()`: a receive in progress rejects with `HANDOFF_ABORTED`. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Stop (resume data is kept: the same receive continues later). */
  async close(): Promise<void> {
    this.abort.abort(new HandoffError('HANDOFF_ABORTED', 'the receive was stopped'));
    await this.session?.close();
  }
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Find the sender and connect: the first candidate that completes the handshake wins. A wrong
 * code fails at once (each try is a guess the sender counts); a candidate that cannot be reached
 * is skipped.
 */
async function meetSender(
  options: ReceiveOptions,
  transport: HandoffTransport,
): Promise<{ address: PeerAddress; connection: ChannelConnection; offer: Offer }> {
  const candidates = new Candidates();
  try {
    if (options.senderAddress) {
      candidates.add(options.senderAddress);
      candidates.end(); // that one address is all there is
    } else {
      if (options.lan !== false) await findOnLan(options.code.nameplate, options.lan ?? {}, candidates);
      if (options.dht) void findOnDht(options.code.nameplate, options.dht, candidates).catch(() => {});
    }
    const deadline = Date.now() + (options.findTimeoutMs ?? 60_000);
    let lastError: unknown = null;
    for (;;) {
      const left = deadline - Date.now();
      const address = left > 0 ? await candidates.next(left) : null;
      options.signal?.throwIfAborted();
      if (!address) break;
      try {
        const met = await transport.connect(address, {
          timeoutMs: 10_000,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        return { address, ...met };
      } catch (err) {
        // A wrong code (each try is a guess) or a hostile offer: stop, do not try others.
        if (err instanceof HandshakeError || err instanceof ControlError) throw err;
        lastError = err;
      }
    }
    throw new HandoffError(
      'HANDOFF_NOT_FOUND',
      lastError
        ? `could not reach the sender (${describe(lastError)}); it may have stopped after a wrong code`
        : `no sender found for code number ${options.code.nameplate}; is \`peerdrop send\` still running?`,
    );
  } finally {
    await candidates.close();
  }
}

/** Receive: resolves once every file is verified on disk (the sender is told), rejects on any failure. */
export async function receive(
  options: ReceiveOptions,
  receiver = new HandoffReceiver(),
): Promise<ReceiveResult> {
  let accepted: Offer | null = null;
  const transport = new HandoffTransport({
    inner: options.transport ?? new TcpTransport({ host: options.host ?? '0.0.0.0', port: 0 }),
    code: options.code.text,
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
    // Other receivers may dial us once we have accepted (--multi); before that, nobody.
    offer: () => (options.isMulti ? accepted : null),
    answerOffer: async (offer, connection) => {
      // A redial (to the sender or another receiver) must bring the offer we accepted.
      if (!accepted || offer.infoHash !== accepted.infoHash)
        throw new HandoffError('HANDOFF_OFFER_CHANGED', 'the peer offers something else');
      // The first connection may have timed out while the user read the offer; the session then
      // redials, and `complete` must reach the sender on that one (another receiver ignores it).
      receiver.toSender.add(connection);
      connection.onControl((m) => {
        if (m.t === 'peers') for (const p of m.peers) receiver.handle?.addPeer(p);
      });
      return options.isMulti ? (receiver.session?.port ?? 0) : 0;
    },
  });
  const signal = options.signal ? AbortSignal.any([options.signal, receiver.signal]) : receiver.signal;
  const met = await meetSender({ ...options, signal }, transport).catch(async (err) => {
    await transport.close();
    throw err;
  });
  receiver.offer = met.offer;
  receiver.report('offer', met.offer);
  if (!(await options.confirm(met.offer))) {
    met.connection.sendControl({ t: 'decline' });
    met.connection.destroy();
    await transport.close();
    throw new HandoffError('HANDOFF_DECLINED', 'you declined the offer; nothing was written');
  }
  accepted = met.offer;
  const session = new Session({
    transport,
    udp: false,
    dht: false,
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
  });
  receiver.session = session;
  try {
    await session.listen();
    met.connection.sendControl({ t: 'accept', port: options.isMulti ? session.port : 0 });
    receiver.toSender.add(met.connection);
    met.connection.onControl((m) => {
      if (m.t === 'peers') for (const p of m.peers) receiver.handle?.addPeer(p);
    });
    transport.adopt(met.address, met.connection);
    const magnet = `magnet:?xt=urn:btih:${met.offer.infoHash}&dn=${encodeURIComponent(met.offer.name)}`;
    const handle = await session.add(magnet, { dir: options.dir, peers: [formatHint(met.address)] });
    receiver.handle = handle;
    await follow(handle, met.offer, receiver, receiver.signal);
    for (const c of receiver.toSender) c.sendControl({ t: 'complete' });
    receiver.report('complete');
    if (options.isMulti) await serveOthers(handle, options.serveOthersMs ?? 600_000, receiver.signal);
    // Let the last frames leave before the sockets close.
    await new Promise((r) => setTimeout(r, 100));
    return { offer: met.offer, dir: options.dir };
  } finally {
    await session.close();
  }
}

/**
 * `--multi`, after completing: stay while a connected peer still lacks pieces (another receiver:
 * the sender has everything), checked each second; leave once there has been none for 3 s, at
 * `maxMs`, or when stopped (the receive itself has succeeded either way).
 */
function serveOthers(handle: TorrentHandle, maxMs: number, signal: AbortSignal): Promise<void> {
  if (maxMs <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const deadline = Date.now() + maxMs;
    let idleChecks = 0;
    let cancel = () => {};
    const finish = () => {
      cancel();
      signal.removeEventListener('abort', finish);
      resolve();
    };
    signal.addEventListener('abort', finish, { once: true });
    const check = () => {
      const needy = handle.peers().some((p) => p.progress < 1);
      idleChecks = needy ? 0 : idleChecks + 1;
      if (idleChecks >= 3 || Date.now() >= deadline) return finish();
      cancel = systemScheduler.setTimer(1000, check);
    };
    check();
  });
}

function follow(
  handle: TorrentHandle,
  offer: Offer,
  receiver: HandoffReceiver,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    let isFirst = true;
    handle.on('metadata', (m) => {
      const problem = offerMismatch(offer, {
        name: m.name,
        files: m.files
          .filter((f) => !f.attributes.isPadding)
          // Multi-file paths start with the torrent's name; the offer's are below it.
          .map((f) => ({ path: offer.isSingleFile ? f.path : f.path.slice(1), lengthBytes: f.lengthBytes })),
      });
      if (problem)
        reject(
          new HandoffError('HANDOFF_OFFER_MISMATCH', `the sender's files do not match its offer: ${problem}`),
        );
    });
    handle.on('piece', () => {
      if (!isFirst) return;
      isFirst = false;
      receiver.report('firstPiece');
    });
    handle.on('progress', (s) => receiver.report('progress', s));
    handle.on('done', () => resolve());
    handle.on('error', (err) => reject(err));
    if (handle.status().state === 'seeding') resolve();
  });
}
