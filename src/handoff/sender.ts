/**
 * The sending side: make a private torrent of the path in memory (deterministic, so the same
 * files give the same info-hash and an interrupted transfer resumes), seed it from a session
 * whose only transport is the handoff (no DHT, PEX, LSD, trackers or UDP), announce the
 * nameplate, and wait until the receiver says it has everything verified.
 */
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { dirname, resolve, sep } from 'node:path';
import { TcpTransport } from '../net/tcp.js';
import type { Transport } from '../net/transport.js';
import { Session } from '../session/session.js';
import type { TorrentHandle } from '../session/torrent-handle.js';
import type { TorrentStatus } from '../session/torrent-types.js';
import { createTorrent } from '../storage/create-torrent.js';
import { fsStorageFactory } from '../storage/fs-storage-factory.js';
import type { PeerAddress } from '../util/ip.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { BundleError, bundleContent, bundleStorage } from './bundle.js';
import type { ChannelConnection } from './channel.js';
import { type HandoffCode, makeCode } from './code.js';
import { MAX_OFFER_LISTED_FILES, type Offer } from './control.js';
import { HandoffError, HandoffTransport } from './handoff-transport.js';
import { CODE_MISMATCH_MESSAGE, HandshakeError } from './handshake.js';
import { announceOnLan, type DhtOptions, type LanOptions, publishOnDht, type Stoppable } from './meet.js';
import { formatHint } from './rendezvous.js';

export interface SendOptions {
  /** One file or folder (a folder keeps its tree). */
  readonly path?: string;
  /**
   * Several files or folders (instead of `path`): the receiver gets one folder holding each
   * under its base name, named after the first (`a.txt and 2 more`); see bundle.ts.
   */
  readonly paths?: readonly string[];
  /** Default: a fresh random code. */
  readonly code?: HandoffCode;
  /** Listen address (default all IPv4); also the only hint published when it is specific. */
  readonly host?: string;
  readonly port?: number;
  /** Session state folder (resume records); default the user's state folder. */
  readonly stateDir?: string;
  /** Serve any number of receivers until closed (default: exit after the first completes). */
  readonly isMulti?: boolean;
  /** Give up after this many failed guesses (default 1: a wrong code ends the send). */
  readonly maxFailedAttempts?: number;
  /** LAN announce (default on); false for none. */
  readonly lan?: LanOptions | false;
  /** DHT item (default off in the library; the CLI passes its bootstrap nodes). */
  readonly dht?: DhtOptions | false;
  /** Upload limit in bytes/s (default unlimited). */
  readonly uploadLimit?: number;
  /** The inner transport (default TCP on host/port); simulations pass another. */
  /** How long a receiver may take to accept or decline the offer on one connection (default 10 s;
   * a receiver that takes longer redials and is served on the new connection). */
  readonly answerTimeoutMs?: number;
  readonly transport?: Transport;
}

export interface SenderEvents {
  [key: string]: (...args: never[]) => void;
  /** A receiver accepted the offer (`address` as we see it). */
  receiver: (address: string) => void;
  /** A receiver has every piece, verified. */
  complete: (address: string) => void;
  /** Someone tried a code that did not match (or left mid-handshake). */
  failedAttempt: (address: string) => void;
  progress: (status: TorrentStatus) => void;
}

export class HandoffSender extends TypedEmitter<SenderEvents> {
  /** Resolves when the (single) receiver completes; rejects on a wrong code or a failure. */
  readonly done: Promise<void>;
  private settle!: (err: Error | null) => void;
  private readonly receivers = new Map<ChannelConnection, string>();
  private rendezvous: Stoppable[] = [];
  private failedAttempts = 0;
  private isClosed = false;

  constructor(
    readonly code: HandoffCode,
    readonly offer: Offer,
    private readonly session: Session,
    readonly handle: TorrentHandle,
    private readonly options: SendOptions,
  ) {
    super();
    this.done = new Promise((resolve, reject) => {
      this.settle = (err) => (err ? reject(err) : resolve());
    });
    this.done.catch(() => {});
    handle.on('progress', (s) => this.emit('progress', s));
  }

  /** The port receivers connect to. */
  get port(): number {
    return this.session.port;
  }

  /** @internal wiring from startSend */
  attach(rendezvous: Stoppable[]): void {
    this.rendezvous = rendezvous;
  }

  /** @internal */
  onAccepted(connection: ChannelConnection, port: number): void {
    const address = `${connection.remoteAddress}:${connection.remotePort}`;
    this.receivers.set(connection, port > 0 ? formatHint({ host: connection.remoteAddress, port }) : '');
    connection.onControl((m) => {
      if (m.t !== 'complete') return;
      this.emit('complete', address);
      if (!this.options.isMulti) this.settle(null);
    });
    this.emit('receiver', address);
    if (this.options.isMulti) this.shareReceivers();
  }

  /** @internal */
  onFailedAttempt(address: PeerAddress): void {
    this.failedAttempts++;
    this.emit('failedAttempt', formatHint(address));
    if (this.failedAttempts >= (this.options.maxFailedAttempts ?? 1))
      this.settle(new HandshakeError('HANDOFF_CODE_MISMATCH', CODE_MISMATCH_MESSAGE));
  }

  /** `--multi`: tell every receiver where the others accept connections, so they swarm. */
  private shareReceivers(): void {
    for (const [c] of this.receivers) if (c.isClosed) this.receivers.delete(c);
    for (const [c] of this.receivers) {
      const peers = [...this.receivers].filter(([o, hint]) => o !== c && hint !== '').map(([, h]) => h);
      if (peers.length > 0) c.sendControl({ t: 'peers', peers: peers.slice(0, 32) });
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.settle(new HandoffError('HANDOFF_ABORTED', 'the send was stopped'));
    await Promise.allSettled(this.rendezvous.map((r) => r.close()));
    await this.session.close();
  }
}

/** Local IPv4 addresses receivers on the network may reach us on (loopback when there is none). */
function localHints(host: string | undefined, port: number): PeerAddress[] {
  if (host !== undefined && host !== '0.0.0.0' && host !== '::') return [{ host, port }];
  const out: PeerAddress[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push({ host: a.address, port });
  return out.length > 0 ? out : [{ host: '127.0.0.1', port }];
}

/** Hash the path, start seeding over the handoff transport and announce the code's nameplate. */
export async function startSend(options: SendOptions): Promise<HandoffSender> {
  const paths = options.paths?.length ? options.paths : options.path !== undefined ? [options.path] : [];
  if (paths.length === 0) throw new BundleError('HANDOFF_BAD_PATHS', 'nothing to send: give a path');
  const path = resolve(paths[0]!);
  const bundle = paths.length > 1 ? await bundleContent(paths) : null;
  const code = options.code ?? makeCode((n) => new Uint8Array(randomBytes(n)));
  // No creation date, comment or tool name: the info-hash depends on the files alone.
  const created = await createTorrent(path, { isPrivate: true, ...(bundle ? { content: bundle } : {}) });
  const offer: Offer = {
    name: created.name,
    isSingleFile: created.isSingleFile,
    fileCount: created.files.length,
    totalBytes: created.totalLengthBytes,
    infoHash: Buffer.from(created.infoHash!).toString('hex'),
    files: created.files
      .slice(0, MAX_OFFER_LISTED_FILES)
      .map((f) => ({ path: f.path, lengthBytes: f.lengthBytes })),
  };
  let sender: HandoffSender | null = null;
  const transport = new HandoffTransport({
    inner:
      options.transport ?? new TcpTransport({ host: options.host ?? '0.0.0.0', port: options.port ?? 0 }),
    code: code.text,
    ...(options.answerTimeoutMs ? { handshakeTimeoutMs: options.answerTimeoutMs } : {}),
    offer: () => (sender ? offer : null),
    onAccepted: (connection, port) => sender?.onAccepted(connection, port),
    onFailedAttempt: (address) => sender?.onFailedAttempt(address),
    // Only receivers dial; the sender never connects to anyone.
    answerOffer: async () => null,
  });
  const session = new Session({
    transport,
    udp: false,
    dht: false,
    ...(options.uploadLimit ? { uploadLimit: options.uploadLimit } : {}),
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    // Several paths: each file is read where it was hashed, not from one folder.
    ...(bundle
      ? {
          storage: bundleStorage(
            fsStorageFactory(options.stateDir ? { stateDir: options.stateDir } : {}),
            bundle,
          ),
        }
      : {}),
  });
  try {
    const handle = await session.add(created.torrentBytes, {
      dir: bundle ? sep : dirname(path),
      isKnownComplete: true,
      isSeedOnly: true,
    });
    sender = new HandoffSender(code, offer, session, handle, options);
    const rendezvous: Stoppable[] = [];
    sender.attach(rendezvous);
    if (options.lan !== false)
      rendezvous.push(await announceOnLan(code.nameplate, session.port, options.lan ?? {}));
    if (options.dht)
      rendezvous.push(
        await publishOnDht(code.nameplate, localHints(options.host, session.port), options.dht),
      );
    return sender;
  } catch (err) {
    if (sender) await sender.close();
    else await session.close();
    throw err;
  }
}
