/**
 * The outbox: a message is on the disk as `queued` before it is sent, goes only to the key it is
 * addressed to, in the order it was queued, again after every reconnection, until the peer's
 * acknowledgement makes it `delivered`.
 */
import { randomUUID } from 'node:crypto';
import type { MessageStateEvent } from '../history/events.ts';
import type { MessageLedger, OutgoingMessage, OutgoingState, Recipient } from '../history/message-ledger.ts';
import { quote } from '../peer/log-text.ts';
import type { PeerInfo, PeerSession } from '../peer/session.ts';
import type { EventFeed } from './event-feed.ts';
import type { Logger } from './logger.ts';

/**
 * Messages sent and not yet acknowledged on one connection. The peer handles a burst of 1000
 * (MESSAGE_BURST) at once, so a window of that size keeps a burst flowing; a resend after a cut
 * sends at most this many twice.
 */
export const MAX_MESSAGES_IN_FLIGHT = 1000;
/**
 * Their bytes as frames (JSON-escaped text). The peer reads 1 MiB of message text a second past
 * its burst (MESSAGE_BYTES_PER_SECOND), and we drop a peer with 4 MiB queued for it
 * (MAX_QUEUED_OUTPUT_BYTES): an outbox of large messages must wait for acknowledgements rather
 * than pile up in the socket. One message always goes, however large.
 */
export const MAX_IN_FLIGHT_BYTES = 1024 * 1024;
/** Queued messages read from the history at a time. */
const QUEUE_PAGE = 256;

/** One connection the outbox sends on, and how far it got. */
interface Attachment {
  session: PeerSession;
  fingerprint: string;
  /** Seq of the last message sent on this connection: the next is the first queued one after it. */
  cursor: number;
  inFlight: number;
  inFlightBytes: number;
}

export interface OutboxOptions {
  /** This daemon's name, the `from` of what it sends. */
  name: string;
  ledger: MessageLedger;
  feed: EventFeed;
  log: Logger;
  /**
   * While nobody is connected: the peer this daemon means to reach again (the reconnect target,
   * last_peer.json), not the last one that happened to connect: a stranger who connected once
   * while bob was away must not receive what is sent for bob.
   */
  intended(): Recipient | undefined;
}

export interface Queued {
  message: OutgoingMessage;
  /** false: a message with this id was queued before (a retry); `message` is that one. */
  created: boolean;
}

export class Outbox {
  private readonly options: OutboxOptions;
  private readonly ledger: MessageLedger;
  private current: Attachment | undefined;
  private pumpScheduled = false;
  /** Who waits for a message to leave `queued` (a `send` with `waitMs`). */
  private readonly waiters = new Map<string, Set<(state: OutgoingState) => void>>();

  constructor(options: OutboxOptions) {
    this.options = options;
    this.ledger = options.ledger;
  }

  /**
   * The peer slot's hook: `session` is the active connection now. What is queued for its key goes
   * first, from the oldest, before anything sent from now on (which queues behind it).
   */
  attach(session: PeerSession, peer: PeerInfo): void {
    const attachment: Attachment = { session, fingerprint: peer.fingerprint, cursor: 0, inFlight: 0, inFlightBytes: 0 };
    this.current = attachment;
    const waiting = this.ledger.queuedPeers().find((queued) => queued.fingerprint === peer.fingerprint)?.count ?? 0;
    if (waiting > 0) this.options.log.info(`peer ${peer.address}: sending the ${waiting} messages queued for ${quote(peer.name)} first`);
    this.pump(attachment);
  }

  /** How many messages wait in the outbox, for every key. */
  queuedCount(): number {
    return this.ledger.queuedPeers().reduce((sum, peer) => sum + peer.count, 0);
  }

  /**
   * Who a message sent now is for: the connected peer; else the peer this daemon means to reach
   * again (see OutboxOptions.intended).
   */
  recipient(): Recipient | undefined {
    const { current } = this;
    const peer = current && !current.session.isClosed ? current.session.peer : undefined;
    return peer ? { fingerprint: peer.fingerprint, name: peer.name } : this.options.intended();
  }

  /**
   * Commits `text` as queued for `to` (or finds the message a retry with the same `id` means),
   * then sends it when its turn comes. Resolves once the queued message is on the disk.
   */
  async queue(text: string, to: Recipient, id?: string): Promise<Queued> {
    const { name, feed } = this.options;
    const time = new Date().toISOString();
    const queued = await feed.commit(() => {
      const existing = id === undefined ? undefined : this.ledger.outgoing(id);
      if (existing) return { value: { message: existing, created: false }, events: [] };
      const messageId = id ?? randomUUID();
      const stored = this.ledger.queue({
        type: 'message', direction: 'out', id: messageId, time, from: name, to: to.name, text, fingerprint: to.fingerprint,
      });
      const message: OutgoingMessage = { seq: stored.seq, id: messageId, time, text, to: to.name, fingerprint: to.fingerprint, state: 'queued' };
      return { value: { message, created: true }, events: [stored] };
    });
    if (queued.created) this.schedulePump();
    return queued;
  }

  /** The message's state once it is no longer `queued`, or `queued` when `waitMs` passed first. */
  settled(id: string, waitMs: number): Promise<OutgoingState> {
    const state = this.ledger.outgoing(id)?.state ?? 'queued';
    if (state !== 'queued' || waitMs === 0) return Promise.resolve(state);
    return new Promise((resolve) => {
      const waiters = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, waiters);
      const done = (settled: OutgoingState) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.waiters.delete(id);
        resolve(settled);
      };
      const timer = setTimeout(() => done('queued'), waitMs);
      waiters.add(done);
    });
  }

  /** The state of the outgoing message with this id, if there is one. */
  stateOf(id: string): OutgoingState | undefined {
    return this.ledger.outgoing(id)?.state;
  }

  /** Every key with queued messages, and the first `limit` of each. */
  list(limit: number): Array<Recipient & { count: number; messages: OutgoingMessage[] }> {
    return this.ledger.queuedPeers().map((peer) => ({ ...peer, messages: this.ledger.queued(peer.fingerprint, 0, limit) }));
  }

  /**
   * Takes queued messages out of the outbox (recorded as `dropped`): one by id, or all. Resolves
   * with what was dropped; a message already on its way may still arrive (it is then recorded
   * as delivered too).
   */
  async drop(target: { id: string } | 'all'): Promise<OutgoingMessage[]> {
    const dropped = await this.options.feed.commit(() => {
      const candidates = target === 'all'
        ? this.ledger.queuedPeers().flatMap((peer) => this.ledger.queued(peer.fingerprint, 0, Number.MAX_SAFE_INTEGER))
        : [this.ledger.outgoing(target.id)].filter((message) => message?.state === 'queued') as OutgoingMessage[];
      const events = candidates.flatMap((message) => this.ledger.settle(this.stateEvent(message, 'dropped')) ?? []);
      return { value: candidates, events };
    });
    for (const message of dropped) this.tell(message.id, 'dropped');
    return dropped;
  }

  private stateEvent(message: OutgoingMessage, state: MessageStateEvent['state']): Omit<MessageStateEvent, 'seq'> {
    return {
      type: 'message-state', direction: 'out', id: message.id, time: new Date().toISOString(),
      from: this.options.name, to: message.to, fingerprint: message.fingerprint, state,
    };
  }

  /**
   * Soon, and once for many: the sends of one commit, or the ACKs of one read, settle together,
   * and the first pump that runs after them finds them all (what is queued is read from the history).
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      if (this.current) this.pump(this.current);
    });
  }

  /**
   * Sends queued messages on `attachment`, in order, while its window has room. A history that
   * cannot be read leaves them queued (the next send or ACK tries again), and never stops the daemon.
   */
  private pump(attachment: Attachment): void {
    try {
      this.fill(attachment);
    } catch (error) {
      this.options.log.error(`outbox: cannot read the queued messages: ${String(error)}`);
    }
  }

  private fill(attachment: Attachment): void {
    while (attachment === this.current && !attachment.session.isClosed && attachment.inFlight < MAX_MESSAGES_IN_FLIGHT) {
      const page = this.ledger.queued(attachment.fingerprint, attachment.cursor, Math.min(QUEUE_PAGE, MAX_MESSAGES_IN_FLIGHT - attachment.inFlight));
      if (page.length === 0) return;
      for (const message of page) {
        const bytes = Buffer.byteLength(JSON.stringify(message.text));
        if (attachment.inFlight > 0 && attachment.inFlightBytes + bytes > MAX_IN_FLIGHT_BYTES) return;
        this.send(attachment, message, bytes);
        if (attachment.session.isClosed) return;
      }
    }
  }

  private send(attachment: Attachment, message: OutgoingMessage, bytes: number): void {
    attachment.cursor = message.seq;
    attachment.inFlight++;
    attachment.inFlightBytes += bytes;
    attachment.session.sendMessage(message.text, { id: message.id, time: message.time }).then(
      () => this.delivered(message),
      // The connection ended first: the message stays queued, for the next connection to this key.
      () => undefined,
    ).finally(() => {
      attachment.inFlight--;
      attachment.inFlightBytes -= bytes;
      if (attachment === this.current) this.schedulePump();
    });
  }

  /** The peer acknowledged it: it is on the peer's disk. (An ACK from a connection replaced meanwhile counts too.) */
  private delivered(message: OutgoingMessage): void {
    this.options.feed.commit(() => {
      const event = this.ledger.settle(this.stateEvent(message, 'delivered'));
      return { value: undefined, events: event ? [event] : [] };
    }).then(
      () => this.tell(message.id, 'delivered'),
      // Still `queued` on our side: it is sent again on the next connection, and the peer
      // acknowledges it again without recording it twice.
      (error: unknown) => this.options.log.warn(`could not record that message ${message.id} was delivered: ${String(error)}`),
    );
  }

  private tell(id: string, state: OutgoingState): void {
    for (const waiter of this.waiters.get(id) ?? []) waiter(state);
  }
}
