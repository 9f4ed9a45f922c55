/**
 * The daemon's person-to-person transfers (`peerdrop send` / `receive` from the web page): each
 * send or receive is a job with an id that the page polls. A job wraps the handoff library
 * (src/handoff): its own Session on its own port, closed when the job ends. Nothing is written
 * before the user accepts an offer: the receive waits in `offer` on a promise the accept or
 * decline route settles.
 *
 * Rendezvous as the CLI's: LAN multicast on the interfaces of `PEERDROP_LSD_INTERFACES` (unset:
 * every non-loopback one; empty: none, which is what the test suite sets), and the DHT from
 * `PEERDROP_DHT_BOOTSTRAP` (unset: the public routers; empty: none).
 */
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type DhtOptions,
  type HandoffCode,
  HandoffReceiver,
  type HandoffSender,
  type LanOptions,
  type Offer,
  receive,
  startSend,
} from '../handoff/index.js';
import { nameRisks } from '../metainfo/file-risk.js';
import type { TorrentStatus } from '../session/torrent-types.js';
import type { SensitiveFinding } from '../storage/sensitive-scan.js';
import { PeerdropError } from '../util/errors.js';
import { parseHostPort } from '../util/ip.js';
import type {
  HandoffErrorView,
  OfferView,
  ReceiveState,
  ReceiveStatus,
  SendState,
  SendStatus,
} from './routes-handoff-types.js';

/** Jobs running at once, each kind (each holds a Session, a port and a multicast socket). */
export const MAX_RUNNING_JOBS = 8;
/** Finished jobs kept for the page to read their outcome. */
const MAX_FINISHED_JOBS = 32;
const PUBLIC_DHT_ROUTERS = ['router.bittorrent.com:6881', 'dht.transmissionbt.com:6881'];

export interface HandoffJobOptions {
  /** Resume records of the handoff sessions (inside the daemon's data folder). */
  readonly stateDir: string;
  readonly lan: LanOptions | false;
  /** Resolved when a job starts (names need DNS). */
  readonly dht: () => Promise<DhtOptions | false>;
  /** Where senders accept receivers: loopback when the LAN is loopback only. */
  readonly host?: string;
}

const isLoopbackName = (name: string) => name === 'lo' || name.startsWith('127.') || name === '::1';

/** The rendezvous options from the environment, as the CLI reads them (see the module header). */
export function handoffOptionsFromEnv(
  stateDir: string,
  env: NodeJS.ProcessEnv = process.env,
): HandoffJobOptions {
  const lanEnv = env.PEERDROP_LSD_INTERFACES;
  const interfaces = (lanEnv ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const lan: LanOptions | false =
    lanEnv === undefined
      ? {}
      : interfaces.length === 0
        ? false
        : { interfaces, ...(interfaces.some(isLoopbackName) ? { loopback: true } : {}) };
  const isLoopbackOnly = interfaces.length > 0 && interfaces.every(isLoopbackName);
  const dhtText = env.PEERDROP_DHT_BOOTSTRAP ?? PUBLIC_DHT_ROUTERS.join(',');
  return {
    stateDir,
    lan,
    dht: () => resolveBootstrap(dhtText),
    ...(isLoopbackOnly ? { host: '127.0.0.1' } : {}),
  };
}

async function resolveBootstrap(text: string): Promise<DhtOptions | false> {
  const out: { host: string; port: number }[] = [];
  for (const entry of text.split(',').map((t) => t.trim())) {
    const a = entry ? parseHostPort(entry) : null;
    if (!a) continue;
    const found = await lookup(a.host, { family: 4 }).catch(() => null);
    if (found) out.push({ host: found.address, port: a.port });
  }
  if (out.length === 0) return false;
  return { bootstrap: out, isLoopbackNetwork: out.every((a) => a.host.startsWith('127.')) };
}

function errorView(err: unknown): HandoffErrorView {
  if (err instanceof PeerdropError) return { code: err.code, message: err.message };
  return { code: 'HANDOFF_FAILED', message: err instanceof Error ? err.message : String(err) };
}

const newId = () => randomBytes(8).toString('hex');

class SendJob {
  readonly id = newId();
  readonly startedAtMs = Date.now();
  state: SendState = 'waiting';
  error: HandoffErrorView | null = null;
  failedAttempts = 0;
  peers = 0;
  last: TorrentStatus | null = null;

  constructor(
    readonly sender: HandoffSender,
    readonly findings: readonly SensitiveFinding[],
  ) {
    sender.on('receiver', () => {
      if (this.state === 'waiting') this.state = 'connected';
    });
    sender.on('failedAttempt', () => this.failedAttempts++);
    sender.done.then(
      () => this.finish('done', null),
      (err) => this.finish(this.state === 'cancelled' ? 'cancelled' : 'failed', err),
    );
  }

  get isRunning(): boolean {
    return this.state === 'waiting' || this.state === 'connected' || this.state === 'sending';
  }

  private finish(state: SendState, err: unknown): void {
    if (!this.isRunning) return;
    this.last = this.sender.handle.status();
    this.state = state;
    this.error = err === null ? null : errorView(err);
    // The sender's side of a wrong code: someone guessed, so this code is spent.
    if (this.error?.code === 'HANDOFF_CODE_MISMATCH')
      this.error = {
        code: this.error.code,
        message:
          'someone tried a code that did not match, so the send stopped (each code allows one guess); send again for a new code',
      };
    void this.sender.close().catch(() => {});
  }

  async cancel(): Promise<void> {
    if (!this.isRunning) return;
    this.state = 'cancelled';
    this.error = { code: 'HANDOFF_ABORTED', message: 'you stopped the send' };
    await this.sender.close();
  }

  status(): SendStatus {
    const { offer } = this.sender;
    // A seed's handle reports no progress events: read its counters while it runs.
    if (this.isRunning) {
      this.last = this.sender.handle.status();
      this.peers = this.last.peers;
      if (this.state === 'connected' && this.last.uploadedBytes > 0) this.state = 'sending';
    }
    return {
      id: this.id,
      code: this.sender.code.text,
      state: this.state,
      name: offer.name,
      fileCount: offer.fileCount,
      totalBytes: offer.totalBytes,
      uploadedBytes: this.last?.uploadedBytes ?? 0,
      uploadRate: this.isRunning ? (this.last?.uploadRate ?? 0) : 0,
      peers: this.isRunning ? this.peers : 0,
      failedAttempts: this.failedAttempts,
      error: this.error,
      findings: this.findings,
      startedAtMs: this.startedAtMs,
    };
  }
}

/** The offer as the page shows it: paths joined, names checked for disguises, the destination. */
async function offerView(offer: Offer, root: string): Promise<OfferView> {
  const files = offer.files.map((f) => ({ path: f.path.join('/'), lengthBytes: f.lengthBytes }));
  const warnings = offer.isSingleFile
    ? nameRisks([offer.name])
    : offer.files.flatMap((f) => nameRisks([offer.name, ...f.path]));
  const destinationPath = join(root, offer.name);
  const isDestinationTaken = (await stat(destinationPath).catch(() => null)) !== null;
  return {
    name: offer.name,
    isSingleFile: offer.isSingleFile,
    fileCount: offer.fileCount,
    totalBytes: offer.totalBytes,
    files,
    warnings,
    destination: offer.name,
    destinationPath,
    isDestinationTaken,
  };
}

class ReceiveJob {
  readonly id = newId();
  readonly startedAtMs = Date.now();
  readonly receiver = new HandoffReceiver();
  state: ReceiveState = 'finding';
  offer: OfferView | null = null;
  error: HandoffErrorView | null = null;
  last: TorrentStatus | null = null;
  private answer: ((isAccepted: boolean) => void) | null = null;
  private readonly changed = new Set<() => void>();

  constructor(
    readonly code: HandoffCode,
    private readonly root: string,
  ) {
    this.receiver.on('progress', (s) => {
      this.last = s;
    });
  }

  get isRunning(): boolean {
    return this.state === 'finding' || this.state === 'offer' || this.state === 'receiving';
  }

  /** Resolves once the job leaves `finding` (the offer is in, or it failed). */
  whenFound(): Promise<void> {
    if (this.state !== 'finding') return Promise.resolve();
    return new Promise((resolve) => this.changed.add(resolve));
  }

  private set(state: ReceiveState): void {
    this.state = state;
    for (const fn of this.changed) fn();
    this.changed.clear();
  }

  run(options: HandoffJobOptions, dht: DhtOptions | false): void {
    receive(
      {
        code: this.code,
        dir: this.root,
        stateDir: options.stateDir,
        lan: options.lan,
        dht,
        ...(options.host ? { host: options.host } : {}),
        confirm: async (offer) => {
          this.offer = await offerView(offer, this.root);
          const answer = new Promise<boolean>((resolve) => {
            this.answer = resolve;
          });
          if (this.state === 'finding') this.set('offer');
          return answer;
        },
      },
      this.receiver,
    ).then(
      () => this.set('done'),
      (err: unknown) => {
        if (this.state === 'cancelled' || this.state === 'declined') return;
        this.error = errorView(err);
        this.set('failed');
      },
    );
  }

  /** The user's answer to the offer; false when there is no offer waiting. */
  decide(isAccepted: boolean): boolean {
    if (this.state !== 'offer' || !this.answer) return false;
    this.set(isAccepted ? 'receiving' : 'declined');
    if (!isAccepted)
      this.error = { code: 'HANDOFF_DECLINED', message: 'you declined the offer; nothing was written' };
    this.answer(isAccepted);
    this.answer = null;
    return true;
  }

  async cancel(): Promise<void> {
    if (!this.isRunning) return;
    if (this.state === 'offer') return void this.decide(false);
    this.error = {
      code: 'HANDOFF_ABORTED',
      message: 'you stopped the receive; what arrived is kept to continue later',
    };
    this.set('cancelled');
    await this.receiver.close();
  }

  status(): ReceiveStatus {
    const isDone = this.state === 'done';
    return {
      id: this.id,
      code: this.code.text,
      state: this.state,
      offer: this.offer,
      progress: isDone ? 1 : (this.last?.progress ?? 0),
      verifiedBytes: isDone ? (this.offer?.totalBytes ?? 0) : (this.last?.verifiedBytes ?? 0),
      downloadRate: this.state === 'receiving' ? (this.last?.downloadRate ?? 0) : 0,
      error: this.error,
      startedAtMs: this.startedAtMs,
    };
  }
}

/** Keep running jobs and the newest finished ones. */
function prune<T extends { isRunning: boolean }>(jobs: Map<string, T>): void {
  const finished = [...jobs].filter(([, j]) => !j.isRunning);
  for (const [id] of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_JOBS))) jobs.delete(id);
}

export class HandoffJobs {
  private readonly sends = new Map<string, SendJob>();
  private readonly receives = new Map<string, ReceiveJob>();

  constructor(private readonly options: HandoffJobOptions) {}

  private checkRoom(jobs: Map<string, { isRunning: boolean }>): void {
    if ([...jobs.values()].filter((j) => j.isRunning).length >= MAX_RUNNING_JOBS)
      throw new PeerdropError('HANDOFF_BUSY', `at most ${MAX_RUNNING_JOBS} at once; stop one first`);
  }

  async send(path: string, findings: readonly SensitiveFinding[]): Promise<SendStatus> {
    this.checkRoom(this.sends);
    const sender = await startSend({
      path,
      stateDir: this.options.stateDir,
      lan: this.options.lan,
      dht: await this.options.dht(),
      ...(this.options.host ? { host: this.options.host } : {}),
    });
    const job = new SendJob(sender, findings);
    this.sends.set(job.id, job);
    prune(this.sends);
    return job.status();
  }

  async receive(code: HandoffCode, root: string): Promise<ReceiveJob> {
    this.checkRoom(this.receives);
    const job = new ReceiveJob(code, root);
    this.receives.set(job.id, job);
    prune(this.receives);
    job.run(this.options, await this.options.dht());
    return job;
  }

  sendJob(id: string): SendJob | undefined {
    return this.sends.get(id);
  }

  receiveJob(id: string): ReceiveJob | undefined {
    return this.receives.get(id);
  }

  listSends(): SendStatus[] {
    return [...this.sends.values()].map((j) => j.status());
  }

  listReceives(): ReceiveStatus[] {
    return [...this.receives.values()].map((j) => j.status());
  }

  async close(): Promise<void> {
    await Promise.allSettled([
      ...[...this.sends.values()].map((j) => j.cancel()),
      ...[...this.receives.values()].map((j) => j.cancel()),
    ]);
  }
}
