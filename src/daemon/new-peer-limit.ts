/**
 * Whether a peer name that is not pinned yet may be pinned now: never past MAX_PINNED_PEERS, and
 * for connections we did not dial at most NEW_PINS_PER_HOUR an hour.
 */
import { MAX_PINNED_PEERS, type KnownPeers } from '../identity/known-peers.ts';
import { WindowBudget } from './window-budget.ts';

/**
 * New names pinned per hour (a fixed window) for connections we did not dial. A person meets a
 * few new peers a day; a stranger cycling through fresh keys and names gets this many pins an
 * hour and is refused after, so it needs 17 hours to fill known_peers.json, and its first contacts
 * cost the history at most 120 events an hour. Names the user dials are not counted: a stranger's
 * churn must not keep the user from reaching a new peer.
 */
export const NEW_PINS_PER_HOUR = 60;
const HOUR_MS = 3_600_000;

export class NewPeerLimit {
  private readonly knownPeers: KnownPeers;
  private readonly incoming = new WindowBudget(NEW_PINS_PER_HOUR, HOUR_MS);

  constructor(knownPeers: KnownPeers) {
    this.knownPeers = knownPeers;
  }

  /** Why a new name cannot be pinned now for a connection in `direction`; undefined when it can. */
  problem(direction: 'in' | 'out', now = Date.now()): string | undefined {
    if (this.knownPeers.full) {
      return `this daemon has ${MAX_PINNED_PEERS} names pinned, the most it keeps; its user can make room with "chat peers forget NAME"`;
    }
    if (direction === 'in' && !this.incoming.available(now)) {
      const minutes = Math.ceil(this.incoming.msUntilRefill(now) / 60_000);
      return `this daemon pinned ${NEW_PINS_PER_HOUR} new names this hour, the most it takes from connections it did not dial; try again in ${minutes} min`;
    }
    return undefined;
  }

  /** Counts a name just pinned for a connection in `direction`. */
  pinned(direction: 'in' | 'out', now = Date.now()): void {
    if (direction === 'in') this.incoming.take(now);
  }
}
