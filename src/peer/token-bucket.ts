/** A token bucket: how much of one kind a peer may deliver at once, and how fast it earns more. */
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

  /**
   * Milliseconds until `cost` tokens are there (0: now), taking none. A cost above the burst is
   * counted as the whole burst: it could never be earned otherwise.
   */
  wait(cost = 1): number {
    const wanted = Math.min(cost, this.burst);
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) * this.perMs);
    this.refilledAt = now;
    if (this.tokens >= wanted) return 0;
    return Math.max(1, Math.ceil((wanted - this.tokens) / this.perMs));
  }

  /** Takes `cost` tokens and returns 0, or takes nothing and returns the milliseconds until they are earned. */
  take(cost = 1): number {
    const waitMs = this.wait(cost);
    if (waitMs === 0) this.tokens -= Math.min(cost, this.burst);
    return waitMs;
  }
}
