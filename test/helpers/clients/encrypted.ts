import { MseTransport, type MseTransportOptions } from '../../../src/mse/mse-transport.js';
import { TcpTransport } from '../../../src/net/tcp.js';
import { Session } from '../../../src/session/session.js';
import type { TorrentHandle } from '../../../src/session/torrent-handle.js';
import { freePort } from '../ports.js';
import { startProcess } from '../process.js';
import { libtorrentArgs, type RunningClient, startTransmission } from './index.js';

/**
 * Real clients that require encryption (MSE/PE), and peerdrop sessions over `MseTransport`,
 * for the `test/interop/mse-*` tests. Settings from shared/recipes/real-clients.md
 * ("Encryption (MSE/PE) on the reference clients").
 */

/** libtorrent with `out_enc_policy`/`in_enc_policy` forced and `allowed_enc_level` RC4. */
export async function startLibtorrentForcedRc4(opts: {
  mode: 'seed' | 'leech';
  torrentPath: string;
  dir: string;
  peers?: readonly string[];
  maxSeconds?: number;
}): Promise<RunningClient> {
  const port = await freePort();
  const proc = startProcess('/usr/bin/python3', libtorrentArgs({ ...opts, port, forcedRc4: true }));
  // forced = 0, rc4 = 2 in libtorrent 2.0 enums: the settings took.
  await proc.waitFor(/ENC out=0 in=0 level=2/, 15_000);
  await proc.waitFor(/LISTENING \d+/, 15_000);
  return Object.assign(proc, { port });
}

/** transmission-cli with `"encryption": 2` (require), DHT/LPD/PEX/uTP off, bound to 127.0.0.1. */
export function startTransmissionRequiringEncryption(opts: {
  torrentPath: string;
  dir: string;
}): Promise<RunningClient> {
  return startTransmission({ ...opts, encryption: 2 });
}

/** A peerdrop session on 127.0.0.1 whose transport is MSE over TCP with `policy`. */
export async function startEncryptedPeerdrop(opts: {
  policy: MseTransportOptions['policy'];
  torrent: Uint8Array;
  dir: string;
  peers?: readonly string[];
  handshakeTimeoutMs?: number;
}): Promise<{ session: Session; handle: TorrentHandle; transport: MseTransport; stop: () => Promise<void> }> {
  let session: Session | null = null;
  const transport = new MseTransport(new TcpTransport({ host: '127.0.0.1' }), {
    policy: opts.policy,
    ...(opts.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: opts.handshakeTimeoutMs }),
    infoHashes: () => (session?.list() ?? []).map((h) => Buffer.from(h.infoHash, 'hex')),
  });
  session = new Session({ transport, udp: false });
  await session.listen();
  const handle = await session.add(opts.torrent, { dir: opts.dir, peers: [...(opts.peers ?? [])] });
  const s = session;
  return { session: s, handle, transport, stop: () => s.close() };
}
