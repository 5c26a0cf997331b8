/** How long a daemon waits before each redial of a lost peer: exponential backoff with jitter, as a pure function. */

/** The wait before the first redial after a drop: the peer's daemon may be back in a second (a restart). */
export const RECONNECT_BASE_DELAY_MS = 1000;
/**
 * The longest wait between two redials: a peer that is away for hours is dialled once a minute
 * (one TCP connect, or one TLS handshake, a minute), and is reconnected within a minute of its return.
 */
export const RECONNECT_MAX_DELAY_MS = 60_000;
/**
 * Up to this fraction of each wait is taken off at random, so that two daemons that lost each
 * other at the same moment (both restarted, both dialled) do not redial in lock step.
 */
export const RECONNECT_JITTER = 0.5;

export interface BackoffLimits {
  baseMs: number;
  maxMs: number;
}

const DEFAULT_LIMITS: BackoffLimits = { baseMs: RECONNECT_BASE_DELAY_MS, maxMs: RECONNECT_MAX_DELAY_MS };

/**
 * The wait before redial number `attempt` (1 for the first): the nominal wait doubles from
 * `baseMs` up to `maxMs`, and `random()` (in [0, 1)) takes up to RECONNECT_JITTER of it off. The
 * result is always within [baseMs, maxMs].
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random, limits: BackoffLimits = DEFAULT_LIMITS): number {
  const { baseMs, maxMs } = limits;
  // 2^30 is past any cap: no overflow for an outage of any length.
  const doublings = Math.min(Math.max(Math.floor(attempt) - 1, 0), 30);
  const nominal = Math.min(maxMs, baseMs * 2 ** doublings);
  const jittered = nominal * (1 - RECONNECT_JITTER * Math.min(Math.max(random(), 0), 1));
  return Math.round(Math.min(maxMs, Math.max(baseMs, jittered)));
}
