/**
 * Which connection events (`peer` connected, disconnected and refused) reach the history: every
 * one at a person's pace, a bounded number a minute under churn, and the rest only counted.
 */

/** Refused connections recorded per minute; the log still names each (within its own rate limit). */
export const REFUSAL_EVENTS_PER_MINUTE = 30;
/**
 * Connections of keys pinned before recorded per minute, each as its `connected` and, when it
 * ends, its `disconnected` event. A person reconnects a few times a minute at most (a script or a
 * test some more); a pinned key reconnecting in a loop cannot grow the history faster than this. First contacts are not counted
 * here: they are bounded by the pins (NEW_PINS_PER_HOUR), and each is shown.
 */
export const CONNECTIONS_PER_MINUTE = 30;
/** Of CONNECTIONS_PER_MINUTE, the most one key gets: a key reconnecting in a loop cannot hide the others'. */
export const CONNECTIONS_PER_KEY_PER_MINUTE = 10;
const WINDOW_MS = 60_000;

/** What was not recorded in one window. */
export interface SkippedPeerEvents {
  connections: number;
  refusals: number;
}

export class PeerEventBudget {
  private readonly onSkipped: (skipped: SkippedPeerEvents) => void;
  private windowStart = 0;
  private refusals = 0;
  private connections = 0;
  /** Connections recorded per key in this window: at most CONNECTIONS_PER_MINUTE entries. */
  private readonly perKey = new Map<string, number>();
  private skipped: SkippedPeerEvents = { connections: 0, refusals: 0 };
  private summaryTimer: NodeJS.Timeout | undefined;

  /** `onSkipped` is called once at the end of each window in which events were skipped, and at `flush`. */
  constructor(onSkipped: (skipped: SkippedPeerEvents) => void) {
    this.onSkipped = onSkipped;
  }

  /** Whether a refused connection is recorded; if not, it is counted. */
  refusal(now = Date.now()): boolean {
    this.roll(now);
    if (this.refusals < REFUSAL_EVENTS_PER_MINUTE) {
      this.refusals++;
      return true;
    }
    this.skip('refusals', now);
    return false;
  }

  /**
   * Whether a connection that just became active is recorded: its `connected` event now, and its
   * `disconnected` when it ends, so the history never shows one without the other. If not, it is
   * counted. A first contact (its name just pinned) always is.
   */
  connection(fingerprint: string, firstContact: boolean, now = Date.now()): boolean {
    this.roll(now);
    if (firstContact) return true;
    const used = this.perKey.get(fingerprint) ?? 0;
    if (this.connections < CONNECTIONS_PER_MINUTE && used < CONNECTIONS_PER_KEY_PER_MINUTE) {
      this.connections++;
      this.perKey.set(fingerprint, used + 1);
      return true;
    }
    this.skip('connections', now);
    return false;
  }

  /** Reports what was skipped and not reported yet (the daemon calls it when it stops). */
  flush(): void {
    clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    const skipped = this.skipped;
    if (skipped.connections === 0 && skipped.refusals === 0) return;
    this.skipped = { connections: 0, refusals: 0 };
    this.onSkipped(skipped);
  }

  private roll(now: number): void {
    if (now - this.windowStart < WINDOW_MS) return;
    this.flush();
    this.windowStart = now;
    this.refusals = 0;
    this.connections = 0;
    this.perKey.clear();
  }

  private skip(kind: keyof SkippedPeerEvents, now: number): void {
    this.skipped[kind]++;
    // One summary when the window ends, even if no event comes after it.
    if (this.summaryTimer) return;
    this.summaryTimer = setTimeout(() => this.flush(), Math.max(0, this.windowStart + WINDOW_MS - now));
    this.summaryTimer.unref();
  }
}
