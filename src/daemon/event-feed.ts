/**
 * The daemon's one way into the history: each event is stored, then sent to every `subscribe`d
 * control client, and connection events only within the budget that keeps churn off the disk.
 */
import type { ControlConnection } from '../control/server.ts';
import type { ChatEvent, NewEvent } from '../history/events.ts';
import { GroupCommit } from '../history/group-commit.ts';
import type { HistoryStore } from '../history/store.ts';
import type { Logger } from './logger.ts';
import {
  CONNECTIONS_PER_KEY_PER_MINUTE,
  CONNECTIONS_PER_MINUTE,
  PeerEventBudget,
  REFUSAL_EVENTS_PER_MINUTE,
  type SkippedPeerEvents,
} from './peer-event-budget.ts';

export class EventFeed {
  private readonly history: HistoryStore;
  private readonly log: Logger;
  private readonly subscribers = new Set<ControlConnection>();
  /** Connections and refusals are recorded in the history, but churn must not fill the disk. */
  private readonly peerEvents = new PeerEventBudget((skipped) => this.reportSkipped(skipped));
  /** Messages in and out: what arrives together is committed together. */
  private readonly group: GroupCommit;

  constructor(history: HistoryStore, log: Logger) {
    this.history = history;
    this.log = log;
    this.group = new GroupCommit(history);
  }

  /** Sends `connection` every event recorded from now until it closes. */
  subscribe(connection: ControlConnection): void {
    this.subscribers.add(connection);
    connection.onClose(() => this.subscribers.delete(connection));
  }

  /** Stores the event and notifies the subscribers; throws when the history cannot store it. */
  record(event: NewEvent): void {
    this.notify(this.history.append(event));
  }

  private notify(event: ChatEvent): void {
    for (const subscriber of this.subscribers) subscriber.notify('event', event);
  }

  /**
   * Runs `work` against the history in the next group commit (GroupCommit); once that is on the
   * disk, notifies the subscribers of the events it stored, and resolves with its value.
   */
  async commit<T>(work: () => { value: T; events: ChatEvent[] }): Promise<T> {
    const { value, events } = await this.group.run(work);
    for (const event of events) this.notify(event);
    return value;
  }

  /** For events about the connection itself: failing to record one must not break the caller. */
  recordSafely(event: NewEvent): void {
    try {
      this.record(event);
    } catch (error) {
      this.log.warn(`could not record a ${event.type} event: ${String(error)}`);
    }
  }

  /** Records a refused connection (safely) within REFUSAL_EVENTS_PER_MINUTE; past it, only counts it. */
  recordRefusal(event: () => NewEvent): void {
    if (this.peerEvents.refusal()) this.recordSafely(event());
  }

  /**
   * Whether a connection that just became active gets its `connected` event, and so its
   * `disconnected` one: see PeerEventBudget.connection.
   */
  recordsConnection(fingerprint: string, firstContact: boolean): boolean {
    return this.peerEvents.connection(fingerprint, firstContact);
  }

  /** Commits what is pending, reports what the budget skipped, then closes the history. */
  close(): void {
    try {
      this.group.flush();
      this.peerEvents.flush();
    } finally {
      this.history.close();
    }
  }

  /** One line for the connection events the budget kept out of the history in the last window. */
  private reportSkipped(skipped: SkippedPeerEvents): void {
    const parts = [
      skipped.connections ? `${skipped.connections} connections of pinned keys (over ${CONNECTIONS_PER_MINUTE} a minute, ${CONNECTIONS_PER_KEY_PER_MINUTE} per key)` : '',
      skipped.refusals ? `${skipped.refusals} refused connections (over ${REFUSAL_EVENTS_PER_MINUTE} a minute)` : '',
    ].filter(Boolean);
    this.log.warn(`not recorded in the history in the last minute, churn: ${parts.join(' and ')}; the log lines above name them`);
  }
}
