/** A token bucket: how many frames of one kind a peer may deliver at once, and how fast it earns more. */
import { performance } from 'node:perf_hooks';

export interface Rate {
  perSecond: number;
  burst: number;
}

export class TokenBucket {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;

  /** `now` in milliseconds, monotonic: a clock set back must not stall a peer for hours. */
  constructor(rate: Rate, now: () => number = () => performance.now()) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1)) throw new RangeError(`invalid rate ${rate.perSecond}/s, burst ${rate.burst}`);
    this.perMs = rate.perSecond / 1000;
    this.burst = rate.burst;
    this.now = now;
    this.tokens = rate.burst;
    this.refilledAt = now();
  }

  /** Takes one token and returns 0, or takes nothing and returns the milliseconds until one is earned. */
  take(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) * this.perMs);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perMs));
  }
}
