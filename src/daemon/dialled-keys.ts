/**
 * The keys this daemon's own dials proved lately: the consent of `chat connect` also covers the
 * same peer dialling us back meanwhile (both dialling at once), whichever connection gets there first.
 */

/**
 * How long a dial's consent lasts. Long enough for the peer's own `chat connect` typed after ours
 * (or after ours was refused by its side), short enough that a dial of last week is no consent now.
 */
export const DIALLED_CONSENT_MS = 600_000;
/** Keys kept: one person dials a few peers in ten minutes; past this the oldest is forgotten. */
export const MAX_DIALLED_KEYS = 16;

export class DialledKeys {
  /** Fingerprint → when its consent ends, oldest dial first. */
  private readonly keys = new Map<string, number>();

  /** A dial of ours reached `fingerprint` (TLS proved it), or `--fingerprint` named it. */
  add(fingerprint: string, now = Date.now()): void {
    this.keys.delete(fingerprint);
    this.keys.set(fingerprint, now + DIALLED_CONSENT_MS);
    for (const key of this.keys.keys()) {
      if (this.keys.size <= MAX_DIALLED_KEYS) break;
      this.keys.delete(key);
    }
  }

  has(fingerprint: string, now = Date.now()): boolean {
    const until = this.keys.get(fingerprint);
    if (until === undefined) return false;
    if (now < until) return true;
    this.keys.delete(fingerprint);
    return false;
  }
}
