/**
 * The messages table beside the event log: each message's id under its direction and peer key, and
 * the delivery state of each outgoing one, which is what de-duplicates a resent message and what
 * the outbox is made of.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { ChatEvent, MessageEvent, MessageState, MessageStateEvent, NewEvent } from './events.ts';

export type OutgoingState = 'queued' | MessageState;

/** An outgoing message as the ledger and its `message` event hold it. */
export interface OutgoingMessage {
  /** Its `message` event's seq: the order it was queued in, and is sent in. */
  seq: number;
  id: string;
  time: string;
  text: string;
  /** The recipient's name when it was queued. */
  to: string;
  /** The key it is addressed to: it is sent to no other. */
  fingerprint: string;
  state: OutgoingState;
}

/** A peer a message can be addressed to. */
export interface Recipient {
  fingerprint: string;
  name: string;
}

/** How many messages wait for one key, and the name they were addressed to last. */
export interface QueuedCount extends Recipient {
  count: number;
}

type OutgoingEvent = Omit<MessageEvent, 'seq'> & { direction: 'out'; fingerprint: string };
type IncomingEvent = Omit<MessageEvent, 'seq'> & { direction: 'in' };

/** Moves a state may make: a dropped message that was already on its way can still be delivered. */
const SETTLES: Record<MessageState, readonly OutgoingState[]> = {
  delivered: ['queued', 'dropped'],
  dropped: ['queued'],
};

export interface MessageLedger {
  /** The outgoing message with this id, to whomever it was addressed. */
  outgoing(id: string): OutgoingMessage | undefined;
  /** Records a new outgoing message as queued; its id must be new. */
  queue(event: OutgoingEvent): ChatEvent;
  /**
   * Records an incoming message from the key `fingerprint`, or nothing (undefined) when that key
   * sent one with this id before.
   */
  receive(event: IncomingEvent, fingerprint: string): ChatEvent | undefined;
  /** Records a state change, or nothing (undefined) when the message is not in a state it can leave for it. */
  settle(event: Omit<MessageStateEvent, 'seq'>): ChatEvent | undefined;
  /** Up to `limit` queued messages for this key with a seq above `afterSeq`, in order. */
  queued(fingerprint: string, afterSeq: number, limit: number): OutgoingMessage[];
  /** Every key that has queued messages, oldest queue first. */
  queuedPeers(): QueuedCount[];
}

/**
 * The tables of schema 2, on top of schema 1's `events`. A row costs about 30 bytes: the id as its
 * 16 bytes, the key as a number into `peer_keys`; the text is the event's. Received messages are a
 * peer's to multiply, so their rows are kept small (docs/security.md, the history on disk).
 */
export const MESSAGE_TABLES = `
  CREATE TABLE peer_keys (
    key         INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE
  );
  CREATE TABLE messages (
    direction TEXT NOT NULL,
    id        BLOB NOT NULL,
    peer      INTEGER NOT NULL REFERENCES peer_keys (key),
    seq       INTEGER NOT NULL,
    state     TEXT NOT NULL,
    PRIMARY KEY (direction, id, peer)
  ) WITHOUT ROWID;
  CREATE INDEX messages_queued ON messages (peer, seq) WHERE state = 'queued';
`;

export class SqliteMessageLedger implements MessageLedger {
  private readonly append: (event: NewEvent) => ChatEvent;
  private readonly insert: StatementSync;
  private readonly findIncoming: StatementSync;
  private readonly findOutgoing: StatementSync;
  private readonly findOutgoingState: StatementSync;
  private readonly updateState: StatementSync;
  private readonly selectQueued: StatementSync;
  private readonly selectQueuedPeers: StatementSync;
  private readonly selectKey: StatementSync;
  private readonly insertKey: StatementSync;

  /** `append` stores an event in the same database (and transaction) as these tables. */
  constructor(db: DatabaseSync, append: (event: NewEvent) => ChatEvent) {
    this.append = append;
    // Every read is .all(): a statement stepped by .get() stays open and holds back checkpoints
    // (see the note in store.ts).
    this.insert = db.prepare('INSERT INTO messages (direction, id, peer, seq, state) VALUES (?, ?, ?, ?, ?)');
    this.findIncoming = db.prepare("SELECT seq FROM messages WHERE direction = 'in' AND id = ? AND peer = ?");
    this.findOutgoingState = db.prepare("SELECT state FROM messages WHERE direction = 'out' AND id = ?");
    this.findOutgoing = db.prepare(
      'SELECT m.seq, k.fingerprint, m.state, e.body FROM messages m JOIN peer_keys k ON k.key = m.peer JOIN events e ON e.seq = m.seq ' +
        "WHERE m.direction = 'out' AND m.id = ?",
    );
    this.updateState = db.prepare("UPDATE messages SET state = ? WHERE direction = 'out' AND id = ?");
    this.selectQueued = db.prepare(
      'SELECT m.seq, ? AS fingerprint, m.state, e.body FROM messages m JOIN events e ON e.seq = m.seq ' +
        "WHERE m.peer = ? AND m.state = 'queued' AND m.seq > ? ORDER BY m.seq LIMIT ?",
    );
    this.selectQueuedPeers = db.prepare(
      'SELECT k.fingerprint, q.count, e.body FROM (SELECT peer, count(*) AS count, min(seq) AS first, max(seq) AS last ' +
        "FROM messages WHERE state = 'queued' GROUP BY peer) q JOIN peer_keys k ON k.key = q.peer JOIN events e ON e.seq = q.last ORDER BY q.first",
    );
    this.selectKey = db.prepare('SELECT key FROM peer_keys WHERE fingerprint = ?');
    this.insertKey = db.prepare('INSERT INTO peer_keys (fingerprint) VALUES (?)');
  }

  outgoing(id: string): OutgoingMessage | undefined {
    const [row] = this.findOutgoing.all(idBytes(id));
    return row ? toOutgoing(row) : undefined;
  }

  queue(event: OutgoingEvent): ChatEvent {
    if (this.stateOf(event.id)) throw new Error(`message ${event.id} is in the history already`);
    const stored = this.append({ ...event, state: 'queued' });
    this.insert.run('out', idBytes(event.id), this.keyOf(event.fingerprint, true)!, stored.seq, 'queued');
    return stored;
  }

  receive(event: IncomingEvent, fingerprint: string): ChatEvent | undefined {
    const key = this.keyOf(fingerprint, true)!;
    if (this.findIncoming.all(idBytes(event.id), key).length > 0) return undefined;
    const stored = this.append(event);
    this.insert.run('in', idBytes(event.id), key, stored.seq, 'received');
    return stored;
  }

  settle(event: Omit<MessageStateEvent, 'seq'>): ChatEvent | undefined {
    const state = this.stateOf(event.id);
    if (!state || !SETTLES[event.state].includes(state)) return undefined;
    this.updateState.run(event.state, idBytes(event.id));
    return this.append(event);
  }

  queued(fingerprint: string, afterSeq: number, limit: number): OutgoingMessage[] {
    const key = this.keyOf(fingerprint, false);
    return key === undefined ? [] : this.selectQueued.all(fingerprint, key, afterSeq, limit).map(toOutgoing);
  }

  queuedPeers(): QueuedCount[] {
    return this.selectQueuedPeers.all().map((row) => {
      const { fingerprint, count, body } = row as { fingerprint: string; count: number; body: string };
      return { fingerprint, name: (JSON.parse(body) as MessageEvent).to, count };
    });
  }

  private stateOf(id: string): OutgoingState | undefined {
    const [row] = this.findOutgoingState.all(idBytes(id)) as unknown as Array<{ state: OutgoingState }>;
    return row?.state;
  }

  /**
   * The number that stands for `fingerprint` in `messages`; a new one only when `create`. (Not
   * cached: a key made in a batch whose commit fails is gone again.)
   */
  private keyOf(fingerprint: string, create: boolean): number | undefined {
    const [row] = this.selectKey.all(fingerprint) as unknown as Array<{ key: number }>;
    if (row) return row.key;
    return create ? Number(this.insertKey.run(fingerprint).lastInsertRowid) : undefined;
  }
}

/** A UUID as its 16 bytes. */
function idBytes(id: string): Buffer {
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

function toOutgoing(row: unknown): OutgoingMessage {
  const { seq, fingerprint, state, body } = row as { seq: number; fingerprint: string; state: OutgoingState; body: string };
  const event = JSON.parse(body) as MessageEvent;
  return { seq, id: event.id, time: event.time, text: event.text, to: event.to, fingerprint, state };
}
