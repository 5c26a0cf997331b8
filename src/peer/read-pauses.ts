/** Why we are not reading a peer's socket right now: it reads again once no reason is left. */
import type { Socket } from 'node:net';

/**
 * `throttle`: the peer is over its message budget. `output`: the peer does not read the answers it
 * asked for. (Never the disk: a slow disk withholds FILE_CREDIT instead, so messages still pass.)
 */
export type PauseReason = 'throttle' | 'output';

export class ReadPauses {
  private readonly socket: Pick<Socket, 'pause' | 'resume' | 'destroyed'>;
  private readonly reasons = new Set<PauseReason>();

  constructor(socket: Pick<Socket, 'pause' | 'resume' | 'destroyed'>) {
    this.socket = socket;
  }

  /** While paused, the peer's bytes wait in the kernel and TCP slows the peer down. */
  get paused(): boolean {
    return this.reasons.size > 0;
  }

  has(reason: PauseReason): boolean {
    return this.reasons.has(reason);
  }

  add(reason: PauseReason): void {
    if (this.reasons.has(reason)) return;
    this.reasons.add(reason);
    if (this.reasons.size === 1) this.socket.pause();
  }

  delete(reason: PauseReason): void {
    if (!this.reasons.delete(reason)) return;
    if (this.reasons.size === 0 && !this.socket.destroyed) this.socket.resume();
  }
}
