/** Allows at most `limit` uses per fixed window of time: a cheap bound on what a flood can make us record. */
export class WindowBudget {
  private readonly limit: number;
  private readonly windowMs: number;
  private windowStart = 0;
  private used = 0;

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** True when one more use fits in the current window (and counts it). */
  take(now = Date.now()): boolean {
    if (!this.available(now)) return false;
    this.used++;
    return true;
  }

  /** True when one more use fits in the current window; counts nothing. */
  available(now = Date.now()): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    return this.used < this.limit;
  }

  /** How long until the current window ends and the budget is full again. */
  msUntilRefill(now = Date.now()): number {
    return Math.max(0, this.windowStart + this.windowMs - now);
  }
}
