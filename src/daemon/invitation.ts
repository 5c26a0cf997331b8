/** The invite (`chat invite`): one door for the next new key, open until it is used, cancelled or expires. */
import type { InviteSummary } from '../control/protocol.ts';

export class Invitation {
  private expiresAt: number | undefined;

  /** Opens the invite for `forMs` from now (an open one is replaced: its time starts again). */
  open(forMs: number, now = Date.now()): InviteSummary {
    this.expiresAt = now + forMs;
    return this.summary(now)!;
  }

  isOpen(now = Date.now()): boolean {
    return this.expiresAt !== undefined && now < this.expiresAt;
  }

  /** Closes it; true when it was open. A new key let in by the invite closes it too: it is for one peer. */
  close(now = Date.now()): boolean {
    const wasOpen = this.isOpen(now);
    this.expiresAt = undefined;
    return wasOpen;
  }

  /** The open invite as `status` and `invite` report it; null when none is open. */
  summary(now = Date.now()): InviteSummary | null {
    if (!this.isOpen(now)) return null;
    return { expiresAt: new Date(this.expiresAt!).toISOString(), expiresInMs: this.expiresAt! - now };
  }
}
