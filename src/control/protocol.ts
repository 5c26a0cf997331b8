/**
 * The control protocol between `chat` commands (or any script) and their own daemon: JSON-RPC 2.0
 * over the profile's control socket. docs/control-protocol.md describes the same names.
 */
import type { ChatEvent } from '../history/events.ts';

export type { ChatEvent } from '../history/events.ts';

/** node-ipc event type under which every JSON-RPC payload travels (`{"type":"rpc","data":...}`). */
export const RPC_EVENT = 'rpc';

export * from './status-types.ts';
import type { InviteSummary, PeerSummary, PinnedPeerSummary, StatusResult } from './status-types.ts';

export interface ConnectParams {
  host: string;
  port: number;
  /** Expected fingerprint of the peer (any common notation): anything else is refused. */
  fingerprint?: string;
}
export interface ConnectResult { peer: PeerSummary; alreadyConnected: boolean }
export interface DisconnectResult {
  disconnected: boolean;
  /** The peer that was connected. */
  peer: string | null;
  /** The peer this daemon would have redialled by itself, and now does not; null if none. */
  reconnectStopped: string | null;
}
export interface SendParams {
  text: string;
  /**
   * The message's id (a UUID), chosen by the caller so that it can retry safely: a send with an id
   * that was sent already is that same message, never a second one. Default: a fresh one.
   */
  id?: string;
  /** How long to wait for the peer's acknowledgement before answering `queued`; default DEFAULT_SEND_WAIT_MS. */
  waitMs?: number;
}
/** `delivered`: the peer's daemon has it on its disk. `queued`: not yet; it is sent when the peer is reachable. */
export type SendState = 'delivered' | 'queued';
export interface SendResult {
  id: string;
  /** When it was queued, ISO 8601 UTC: the `time` both histories keep. */
  time: string;
  /** The recipient's name. */
  to: string;
  /** The recipient's key: the message goes to no other. */
  fingerprint: string;
  state: SendState;
}
/** A message waiting in the outbox. */
export interface OutboxMessage { id: string; seq: number; time: string; text: string }
export interface OutboxPeer {
  name: string;
  fingerprint: string;
  /** Messages queued for this key, all of them. */
  count: number;
  /** The first of them, oldest (next to go) first: at most MAX_OUTBOX_LISTED. */
  messages: OutboxMessage[];
}
export interface OutboxResult {
  /** Each key with queued messages, the one waiting longest first. */
  peers: OutboxPeer[];
  /** Some peer has more messages than `messages` lists (see MAX_OUTBOX_LISTED, MAX_HISTORY_RESPONSE_BYTES). */
  truncated: boolean;
}
/** One message by id, or every queued message. */
export type OutboxDropParams = { id: string } | { all: true };
export interface OutboxDropResult { dropped: number }
export interface TransferParams {
  /** Absolute path, read by the daemon (same user). */
  path: string;
  /** Ask for `transfer.progress` notifications on this connection. */
  progress?: boolean;
  /**
   * How long to wait for the transfer to complete before answering `unfinished` (it goes on in the
   * daemon); 0: answer once it is recorded. Default: until it completes or waits for room.
   */
  waitMs?: number;
}
/** `complete`: the receiver holds the verified file. */
export interface TransferResult { id: string; name: string; size: number; sha256: string; to: string; path: string; state: 'complete' }
/**
 * Why an answered transfer is not complete yet: `room`, the receiver has no room for it now
 * (`reason` is the receiver's); `time`, `waitMs` passed first; `link`, the connection ended and
 * nobody redials (`chat disconnect`, a daemon stop): it continues on the next connection.
 */
export type TransferWait = 'room' | 'time' | 'link';
/** The transfer is recorded and goes on in the daemon (see `transfers`): do not send it again. */
export interface UnfinishedTransferResult {
  id: string;
  name: string;
  size: number;
  to: string;
  path: string;
  state: 'unfinished';
  /** Bytes sent so far in this daemon's life. */
  bytes: number;
  waiting: TransferWait;
  reason: string;
}
/** `after` pages forward, `before` backward; neither: the newest events. */
export interface HistoryParams { limit?: number; after?: number; before?: number }
export interface HistoryResult {
  events: ChatEvent[];
  /**
   * Fewer events than asked for, because the page reached MAX_HISTORY_RESPONSE_BYTES: ask again
   * from the edge of this page (`before` its first seq, or `after` its last).
   */
  truncated: boolean;
}
export interface SubscribeResult { subscribed: true }
export interface StopResult { stopping: true }
export interface IdentityResult { name: string; fingerprint: string }
export interface PeersResult { peers: PinnedPeerSummary[] }
export interface ForgetPeerParams { name: string }
export interface AddPeerParams {
  name: string;
  /** Any common notation; the daemon keeps 64 lowercase hex digits. */
  fingerprint: string;
}
/** `alreadyPinned`: the name was pinned to this very key already (nothing changed). */
export interface AddPeerResult { added: PinnedPeerSummary; alreadyPinned: boolean }
export interface InviteParams {
  /** How long the invite stays open, 1 to MAX_INVITE_MS; default DEFAULT_INVITE_MS. */
  forMs?: number;
}
export interface InviteResult {
  /** This daemon's name and key: what the peer's `chat connect --fingerprint` expects. */
  name: string;
  fingerprint: string;
  /** Where the peer can dial (as in `status`); the first is the one to give. */
  addresses: string[];
  invite: InviteSummary;
}
export interface InviteCancelResult {
  /** False when no invite was open. */
  cancelled: boolean;
}
/** An unfinished transfer, either way (`chat transfers`). */
export interface TransferSummary {
  id: string;
  /** `out`: this daemon sends it; `in`: it receives it. */
  direction: 'in' | 'out';
  /** The file's name: the offered name (in) or the source's base name (out). */
  name: string;
  size: number;
  /** Bytes done: held on the receiver's disk (in), or sent since this daemon started (out). */
  bytes: number;
  /** The other side's key. */
  peerFingerprint: string;
  /** The other side's name: the receiver's (out), or the name pinned to the sender's key (in; "" if none). */
  peer: string;
  /** out: the source file. */
  path?: string;
  /** When it started (ISO 8601). */
  started: string;
  /** Set while the receiver has no room for it (its reason): it resumes by itself once there is room. */
  waitingForRoom?: string;
}
export interface TransfersResult { transfers: TransferSummary[] }
export interface CancelTransferParams { id: string }
export interface CancelTransferResult { cancelled: TransferSummary }
export interface ForgetPeerResult { forgotten: PinnedPeerSummary }

/** Every method with its params and result. */
export interface ControlMethods {
  status: { params: Record<string, never>; result: StatusResult };
  stop: { params: Record<string, never>; result: StopResult };
  connect: { params: ConnectParams; result: ConnectResult };
  disconnect: { params: Record<string, never>; result: DisconnectResult };
  send: { params: SendParams; result: SendResult };
  transfer: { params: TransferParams; result: TransferResult | UnfinishedTransferResult };
  history: { params: HistoryParams; result: HistoryResult };
  subscribe: { params: Record<string, never>; result: SubscribeResult };
  identity: { params: Record<string, never>; result: IdentityResult };
  peers: { params: Record<string, never>; result: PeersResult };
  'peers.forget': { params: ForgetPeerParams; result: ForgetPeerResult };
  'peers.add': { params: AddPeerParams; result: AddPeerResult };
  invite: { params: InviteParams; result: InviteResult };
  'invite.cancel': { params: Record<string, never>; result: InviteCancelResult };
  outbox: { params: Record<string, never>; result: OutboxResult };
  'outbox.drop': { params: OutboxDropParams; result: OutboxDropResult };
  transfers: { params: Record<string, never>; result: TransfersResult };
  'transfers.cancel': { params: CancelTransferParams; result: CancelTransferResult };
}
export type MethodName = keyof ControlMethods;
export type ParamsOf<M extends MethodName> = ControlMethods[M]['params'];
export type ResultOf<M extends MethodName> = ControlMethods[M]['result'];

/** Notifications the daemon pushes (JSON-RPC requests without an id). */
export interface ControlNotifications {
  /** A new history event; only to connections that called `subscribe`. */
  event: ChatEvent;
  /** Progress of a transfer started on this connection with `progress: true`. */
  /** `waiting`: set while the link is down, `waiting for NAME… (reconnecting)`; absent once data flows again. */
  'transfer.progress': { id: string; bytes: number; size: number; waiting?: string };
}

/**
 * Application error codes (JSON-RPC `error.code`), in the range 1000-1099. The CLI maps
 * `invalidParams` to exit code 2 and every other error to exit code 1 (a `send` answered
 * `queued` is not an error: the CLI exits 4 for it).
 */
export const ErrorCode = {
  invalidParams: -32602,
  notConnected: 1001,
  connectFailed: 1002,
  fileUnreadable: 1003,
  transferFailed: 1004,
  /** No longer sent: a `send` whose connection ends before the acknowledgement stays queued. */
  peerLost: 1005,
  busy: 1006,
  timeout: 1007,
  identityMismatch: 1008,
  unknownPeer: 1009,
  answerTooLarge: 1010,
  notQueued: 1011,
  unknownTransfer: 1012,
  /** `peers.add`: the name is pinned to another key already. */
  alreadyPinned: 1013,
  /** `invite` on a daemon started with `--accept known`, which lets in no new key. */
  notInviting: 1014,
  internal: 1099,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;

/** Events in a history page when `limit` is not given. */
export const DEFAULT_HISTORY_PAGE = 10;
/** How long `send` waits for the acknowledgement when `waitMs` is not given (`chat send --timeout`'s default). */
export const DEFAULT_SEND_WAIT_MS = 10_000;
/** The longest `waitMs`: an hour. Past it a caller should look at the outbox (or `subscribe`) instead. */
export const MAX_SEND_WAIT_MS = 3_600_000;
/** The longest `waitMs` of `transfer`, as for `send` (an hour). Without one it waits as long as the transfer takes. */
export const MAX_TRANSFER_WAIT_MS = MAX_SEND_WAIT_MS;
/** Messages `outbox` lists per peer (it counts them all): a long outbox is a count, not a 4 MiB answer. */
export const MAX_OUTBOX_LISTED = 100;
/** Most events the daemon returns in one history response. */
export const MAX_HISTORY_PAGE = 1000;
/**
 * Most JSON bytes of events in one history response (at least one event is always returned): well
 * under the control socket's 4 MiB message limit, whatever the messages' sizes.
 */
export const MAX_HISTORY_RESPONSE_BYTES = 1024 * 1024;
/**
 * Longest text `send` takes, in UTF-8 bytes: what one peer MESSAGE carries (256 KiB). The CLI
 * checks it before it connects; larger text goes as a file (`chat transfer`).
 */
export { MAX_MESSAGE_BYTES } from '../wire/limits.ts';
/** A message id: a UUID in lower case, as the peer protocol writes it. */
export { UUID_PATTERN as MESSAGE_ID_PATTERN } from '../wire/uuid.ts';
/** Ports are 1-65535; 0 ("any") is only meaningful for listening. */
export { MAX_PORT } from '../wire/limits.ts';
