import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { UdpRemote } from './udp.js';

/**
 * The thin UDP multicast adapter (BEP 14 local service discovery, and any other group).
 *
 * One socket per address family: it binds the group's port with SO_REUSEADDR (several programs on
 * a host may listen for the same announces), joins the group on every chosen interface, and sends
 * one copy out of each of them. Protocol cores above it see `(bytes, from)` only, as with
 * `bindUdp`. Errors become events; a handler that throws is reported and the socket keeps serving.
 */

export interface MulticastGroup {
  /** The group address: an IPv4 224.0.0.0/4 or an IPv6 ff00::/8 address. */
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

/** BEP 14's IPv4 group (organisation-local scope). */
export const LSD_GROUP_V4: MulticastGroup = { address: '239.192.152.143', port: 6771, family: 'IPv4' };
/** BEP 14's IPv6 group (site-local scope). */
export const LSD_GROUP_V6: MulticastGroup = { address: 'ff15::efc0:988f', port: 6771, family: 'IPv6' };

export interface MulticastOptions {
  group: MulticastGroup;
  /**
   * Interfaces to join on and send from, by name (`eth0`) or by one of their addresses. Default:
   * every interface that is up, not loopback, and has an address of the group's family; if there
   * is none, the kernel's default interface.
   */
  interfaces?: readonly string[];
  /** Deliver our own datagrams back to us (IP_MULTICAST_LOOP). Default false; tests turn it on. */
  loopback?: boolean;
  /** Hop limit of sent datagrams. Default 1: local discovery must not leave the link. */
  ttl?: number;
  /** Datagrams larger than this are dropped before any handler runs (default 1,400). */
  maxDatagramBytes?: number;
  /** Port to bind; default the group's port (0 = any, for a sender that does not listen). */
  bindPort?: number;
}

export interface MulticastSocket {
  readonly group: MulticastGroup;
  /** The interfaces joined, as given to the kernel (an IPv4 address or `::%name`). */
  readonly interfaces: readonly string[];
  /** Send one copy to the group out of each joined interface; resolves when all are handed over. */
  send(bytes: Uint8Array): Promise<void>;
  /** One handler; a later call replaces it. `from` is the sender's unicast address. */
  onMessage(cb: (bytes: Uint8Array, from: UdpRemote) => void): void;
  onError(cb: (err: Error) => void): void;
  /** The bound port (the group's, unless `bindPort` said otherwise). */
  port(): number;
  close(): Promise<void>;
}

/**
 * Interface selectors as the kernel wants them: IPv4 membership and IP_MULTICAST_IF take one of the
 * interface's addresses; IPv6 takes an interface index, which libuv parses from `::%name`.
 */
export function resolveMulticastInterfaces(family: 'IPv4' | 'IPv6', wanted?: readonly string[]): string[] {
  const table = networkInterfaces();
  const out: string[] = [];
  const add = (name: string): void => {
    const addrs = table[name] ?? [];
    const a = addrs.find((x) => x.family === family);
    if (a === undefined) return;
    const sel = family === 'IPv4' ? a.address : `::%${name}`;
    if (!out.includes(sel)) out.push(sel);
  };
  if (wanted !== undefined) {
    for (const w of wanted) {
      if (table[w] !== undefined) {
        add(w);
        continue;
      }
      // An address: find the interface that carries it.
      for (const [name, addrs] of Object.entries(table)) {
        if (addrs?.some((x) => x.address === w || x.address === w.replace(/%.*$/, ''))) add(name);
      }
    }
    return out;
  }
  for (const [name, addrs] of Object.entries(table)) {
    if (addrs === undefined || addrs.every((x) => x.internal)) continue;
    add(name);
  }
  return out;
}

/** Open a multicast socket for `group`; resolves once bound and joined. */
export async function openMulticast(options: MulticastOptions): Promise<MulticastSocket> {
  const { group } = options;
  const type = group.family === 'IPv6' ? 'udp6' : 'udp4';
  const socket: Socket = createSocket({ type, reuseAddr: true, ipv6Only: type === 'udp6' });
  const maxBytes = options.maxDatagramBytes ?? 1400;
  let onMessage: (bytes: Uint8Array, from: UdpRemote) => void = () => {};
  let onError: (err: Error) => void = () => {};
  let closed = false;

  const report = (err: unknown): void => {
    try {
      onError(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // An error handler that throws must not take the socket down.
    }
  };

  socket.on('message', (msg, rinfo) => {
    if (msg.length > maxBytes) return;
    try {
      onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), {
        host: rinfo.address,
        port: rinfo.port,
        family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4',
      });
    } catch (err) {
      report(err);
    }
  });
  socket.on('error', report);

  await new Promise<void>((resolve, reject) => {
    const onBindError = (err: Error): void => reject(err);
    socket.once('error', onBindError);
    // Bound to the wildcard, not the group address, so the same socket can also send (a socket
    // bound to a group address would send with it as its source). Linux then also delivers other
    // groups' and unicast datagrams to this port: the protocol core above must check what it gets.
    socket.bind({ port: options.bindPort ?? group.port, address: type === 'udp6' ? '::' : '0.0.0.0' }, () => {
      socket.off('error', onBindError);
      resolve();
    });
  });

  let interfaces = resolveMulticastInterfaces(group.family, options.interfaces);
  try {
    socket.setMulticastLoopback(options.loopback ?? false);
    socket.setMulticastTTL(options.ttl ?? 1);
    const joined: string[] = [];
    for (const iface of interfaces) {
      try {
        socket.addMembership(group.address, iface);
        joined.push(iface);
      } catch (err) {
        report(err);
      }
    }
    if (interfaces.length === 0) {
      // No usable interface listed: let the kernel pick its default one.
      socket.addMembership(group.address);
    }
    interfaces = joined;
  } catch (err) {
    socket.close();
    throw err;
  }

  // Sends are serialised: IP_MULTICAST_IF is socket-wide, and dgram resolves the destination
  // asynchronously, so two interleaved sends could leave through the wrong interface.
  let chain: Promise<void> = Promise.resolve();
  const sendOne = (bytes: Uint8Array, iface: string | undefined): Promise<void> =>
    new Promise<void>((resolve) => {
      if (closed) return resolve();
      try {
        if (iface !== undefined) socket.setMulticastInterface(iface);
      } catch (err) {
        report(err);
        return resolve();
      }
      socket.send(bytes, group.port, group.address, (err) => {
        if (err) report(err);
        resolve();
      });
    });

  return {
    group,
    interfaces,
    send(bytes) {
      const targets: (string | undefined)[] = interfaces.length > 0 ? [...interfaces] : [undefined];
      chain = chain.then(async () => {
        for (const iface of targets) await sendOne(bytes, iface);
      });
      return chain;
    },
    onMessage(cb) {
      onMessage = cb;
    },
    onError(cb) {
      onError = cb;
    },
    port() {
      return socket.address().port;
    },
    async close() {
      if (closed) return;
      await chain;
      closed = true;
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
