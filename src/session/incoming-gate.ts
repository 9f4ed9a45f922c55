/**
 * Admission of incoming connections before they are peers. A connection still in its
 * handshake has proved nothing, so it must not take a peer slot: such connections get a small
 * budget of their own (globally and per address) and a short deadline, and only handshaken
 * peers count against the torrents' peer limits. Without this, a few hundred idle sockets from
 * one address stopped a seeder from accepting anyone.
 */

export interface IncomingGateOptions {
  /** Connections in their handshake, all addresses together (default 64). */
  readonly maxHandshaking?: number;
  /** Connections in their handshake from one IP (default 8). */
  readonly maxHandshakingPerIp?: number;
  /** Connections (handshaking or peers) from one IP across torrents (default 32). */
  readonly maxPerIp?: number;
  /** An incoming connection must finish its handshake within this (default 5 s). */
  readonly handshakeTimeoutMs?: number;
}

/** One admitted connection: report the handshake, and the close (exactly once each at most). */
export interface Admission {
  handshakeDone(): void;
  release(): void;
}

export class IncomingGate {
  readonly handshakeTimeoutMs: number;
  private readonly maxHandshaking: number;
  private readonly maxHandshakingPerIp: number;
  private readonly maxPerIp: number;
  private handshaking = 0;
  private readonly handshakingByIp = new Map<string, number>();
  private readonly openByIp = new Map<string, number>();
  /** Connections refused at the door, for statistics. */
  refused = 0;

  constructor(options: IncomingGateOptions = {}) {
    this.maxHandshaking = options.maxHandshaking ?? 64;
    this.maxHandshakingPerIp = options.maxHandshakingPerIp ?? 8;
    this.maxPerIp = options.maxPerIp ?? 32;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5_000;
  }

  /** Admit a new connection from `ip`, or null to refuse it (close at once). */
  admit(ip: string): Admission | null {
    if (
      this.handshaking >= this.maxHandshaking ||
      (this.handshakingByIp.get(ip) ?? 0) >= this.maxHandshakingPerIp ||
      (this.openByIp.get(ip) ?? 0) >= this.maxPerIp
    ) {
      this.refused++;
      return null;
    }
    this.handshaking++;
    bump(this.handshakingByIp, ip, 1);
    bump(this.openByIp, ip, 1);
    let isHandshaking = true;
    let isOpen = true;
    const leaveHandshake = () => {
      if (!isHandshaking) return;
      isHandshaking = false;
      this.handshaking--;
      bump(this.handshakingByIp, ip, -1);
    };
    return {
      handshakeDone: leaveHandshake,
      release: () => {
        leaveHandshake();
        if (!isOpen) return;
        isOpen = false;
        bump(this.openByIp, ip, -1);
      },
    };
  }

  /** Connections in their handshake now. */
  get handshakingCount(): number {
    return this.handshaking;
  }
}

function bump(map: Map<string, number>, key: string, delta: number): void {
  const next = (map.get(key) ?? 0) + delta;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}
