/**
 * Why a peer session ended, as a value: the daemon and the CLI decide from `kind`, never by
 * searching the text, so rewording a message cannot change an exit code or a `--json` error code.
 */

/** The kinds of end. A BYE may carry one of BYE_CODES so that a refusal from the other side arrives typed. */
export type SessionEndKind =
  /** A key was refused: not the pinned one, or not the one `--fingerprint` expects. */
  | 'identity'
  /** The single peer slot is held by another key. */
  | 'busy'
  /** A frame broke the peer protocol (including no common version). */
  | 'protocol'
  /** No handshake within the deadline, or no sign of life within the keepalive limit. */
  | 'timeout'
  /** The peer did not read what we sent it (the output bound). */
  | 'unread'
  /** Another connection with the same key was kept instead. */
  | 'duplicate'
  /** This side ended it on purpose: the user disconnected, the daemon is stopping. */
  | 'local'
  /** Something went wrong on this side (a failed history write): not the peer's fault. */
  | 'internal'
  /** The connection failed or closed without a BYE (reset, FIN, TLS error). */
  | 'transport'
  /** The peer said BYE without a code we know (an older or another peer). */
  | 'peerLeft';

export interface SessionEnd {
  kind: SessionEndKind;
  /** True when the other side ended it (its BYE); false when this side did, or the transport failed. */
  remote: boolean;
  /** What happened, for logs and messages: never parsed. */
  detail: string;
}

/** The kinds a BYE may name in its optional `code` field; any other value is read as no code. */
export const BYE_CODES = ['identity', 'busy', 'protocol', 'timeout', 'unread', 'duplicate', 'local', 'internal'] as const;
export type ByeCode = (typeof BYE_CODES)[number];

export function isByeCode(value: unknown): value is ByeCode {
  return typeof value === 'string' && (BYE_CODES as readonly string[]).includes(value);
}

/** The one error a session's callers see when it has ended or the peer refused something; `end` says why. */
export class PeerError extends Error {
  override name = 'PeerError';
  /** Set when the session itself ended; absent for a refusal of one request (a declined file). */
  readonly end: SessionEnd | undefined;

  constructor(message: string, end?: SessionEnd) {
    super(message);
    this.end = end;
  }
}
