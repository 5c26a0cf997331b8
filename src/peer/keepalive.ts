/** Watches a connected peer for signs of life: pings it when it is quiet, and ends the connection when it stays silent too long. */
import type { PingFrame } from '../wire/frames.ts';
import { PEER_SILENCE_LIMIT_MS, PING_INTERVAL_MS } from '../wire/limits.ts';
import type { ByeCode } from './session-end.ts';

/** When a quiet connection is pinged, and how long it may stay silent before it is dropped. */
export interface KeepaliveOptions {
  pingIntervalMs: number;
  silenceLimitMs: number;
}

export const DEFAULT_KEEPALIVE: KeepaliveOptions = { pingIntervalMs: PING_INTERVAL_MS, silenceLimitMs: PEER_SILENCE_LIMIT_MS };

/** What keepalive needs of its connection. */
export interface KeepaliveLink {
  send(frame: PingFrame): void;
  close(kind: ByeCode, detail: string): void;
  /** True while we do not read the peer's socket (see ReadPauses). */
  paused(): boolean;
}

/**
 * A check this much later than due (and later than one whole interval) means this process was
 * frozen (SIGSTOP, a suspended laptop): what the peer sent meanwhile still waits unread in the
 * socket, so the check does not judge the peer's silence until that is read.
 */
const FROZEN_CHECK_LATENESS_MS = 1000;

export class Keepalive {
  private readonly options: KeepaliveOptions;
  private readonly link: KeepaliveLink;
  private timer: NodeJS.Timeout | undefined;
  /** Bytes from the peer, or our bytes taken off the socket: either way it is alive. */
  private lastSignOfLife = Date.now();
  /** 0 is the dialler's handshake confirmation (HANDSHAKE_CONFIRMATION_NONCE). */
  private nextPingNonce = 1;

  constructor(options: KeepaliveOptions, link: KeepaliveLink) {
    this.options = options;
    this.link = link;
  }

  /** The peer is alive: bytes came from it, or the kernel took our file data (its TCP stack acknowledges). */
  signOfLife(): void {
    this.lastSignOfLife = Date.now();
  }

  /** Starts watching, once the handshake is complete. */
  start(): void {
    const { pingIntervalMs, silenceLimitMs } = this.options;
    this.lastSignOfLife = Date.now();
    let lastCheck = this.lastSignOfLife;
    this.timer = setInterval(() => {
      const now = Date.now();
      const lateMs = now - lastCheck - pingIntervalMs;
      lastCheck = now;
      if (this.link.paused() || lateMs > Math.max(pingIntervalMs, FROZEN_CHECK_LATENESS_MS)) {
        // While we do not read (or were frozen), the peer's answers wait in the socket: its silence proves nothing.
        // Our own pings still reach it, so a sender stalled by our slow disk knows we are alive.
        // (A peer that is not read because it does not read us is the output budget's to drop.)
        this.lastSignOfLife = now;
        this.ping();
        return;
      }
      const silentMs = now - this.lastSignOfLife;
      if (silentMs >= silenceLimitMs) {
        this.link.close('timeout', `no sign of life from the peer for ${Math.round(silentMs / 1000)} s (ping timeout)`);
      } else if (silentMs >= pingIntervalMs / 2) {
        this.ping();
      }
    }, pingIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private ping(): void {
    this.link.send({ kind: 'ping', nonce: this.nextPingNonce++ });
  }
}
