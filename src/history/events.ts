/**
 * The history events a daemon records and pushes to subscribers. This is the contract behind
 * `chat tail --json` and the `event` notification: field names are stable.
 */

export type Direction = 'in' | 'out';

interface EventBase {
  /** Position in this profile's history: strictly increasing, never reused. */
  seq: number;
  /**
   * ISO 8601. Events made here are UTC (`Z`); an incoming message keeps the time its sender
   * stamped, which may carry an offset.
   */
  time: string;
  direction: Direction;
  /**
   * Messages and files: who sent it (the peer for `in`, this profile for `out`). Peer events: always
   * the peer, `to` always this profile.
   */
  from: string;
  /** The other side. */
  to: string;
}

export interface MessageEvent extends EventBase {
  type: 'message';
  /** Message id (UUID), the same on both sides. */
  id: string;
  text: string;
  /**
   * `out` only: SHA-256 of the key it is addressed to (64 lowercase hex digits); it is sent to no
   * other. Absent from messages that older builds recorded. (An incoming message's key is its
   * connection's, in the `peer` event before it: not repeated in every message a peer can send.)
   */
  fingerprint?: string;
  /**
   * `out` only: `queued`, the state it was recorded in when `send` took it (it is recorded before
   * it is sent). Its delivery is a later `message-state` event. Absent from messages that older
   * builds recorded, once delivered.
   */
  state?: 'queued';
}

/** What became of an outgoing message after it was queued: delivered (acknowledged by the peer) or dropped from the outbox. */
export interface MessageStateEvent extends EventBase {
  type: 'message-state';
  direction: 'out';
  /** The message's id, as in its `message` event. */
  id: string;
  state: MessageState;
  /** The key the message is addressed to. */
  fingerprint: string;
}

/** Delivery states an outgoing message moves to after `queued`. */
export type MessageState = 'delivered' | 'dropped';

export interface FileEvent extends EventBase {
  type: 'file';
  /** Transfer id (UUID), the same on both sides. */
  id: string;
  /** Name as stored (receiver) or as sent (sender). */
  name: string;
  size: number;
  sha256: string;
  /** Absolute path of the stored copy (receiver) or of the source file (sender). */
  path: string;
}

export interface PeerEvent extends EventBase {
  type: 'peer';
  /**
   * `direction` says who dialled: `out` when this daemon connected to the peer. `refused`: the
   * peer's key did not match its pinned or expected fingerprint (see `reason`). `reconnecting`:
   * the link dropped (or chatd started) and this daemon redials the peer by itself, once per
   * outage however many redials it takes; `connected` follows when one succeeds.
   */
  state: 'connected' | 'disconnected' | 'refused' | 'reconnecting';
  /** The peer's address as host:port. */
  address: string;
  /** SHA-256 of the key the peer presented (64 lowercase hex digits). */
  fingerprint?: string;
  /** On `connected`: true the first time this name is seen, when its key was just pinned. */
  firstContact?: boolean;
  reason?: string;
}

/**
 * A transfer's course before its `file` event: `resumed`, it continues from `offset` (what the
 * receiver already held, after a drop, a restart or a wait for room); `cancelled`, given up
 * before it completed, by this side's user or by the sender (`reason` says which); `failed`, it
 * ended for good without the file for any other reason: declined, not verified, a write error,
 * the receiver cancelled it (`reason` says which). Either way it is not offered again.
 */
export interface TransferEvent extends EventBase {
  type: 'transfer';
  state: TransferState;
  /** Transfer id (UUID), the same on both sides and in its `file` event. */
  id: string;
  /** The file's name as offered. */
  name: string;
  size: number;
  /** `resumed` only: the byte the transfer continues from. */
  offset?: number;
  /** `cancelled` and `failed` only. */
  reason?: string;
}

export type TransferState = 'resumed' | 'cancelled' | 'failed';

export type ChatEvent = MessageEvent | MessageStateEvent | FileEvent | PeerEvent | TransferEvent;

/** An event before the history gives it its sequence number. */
export type NewEvent =
  | Omit<MessageEvent, 'seq'>
  | Omit<MessageStateEvent, 'seq'>
  | Omit<FileEvent, 'seq'>
  | Omit<PeerEvent, 'seq'>
  | Omit<TransferEvent, 'seq'>;
