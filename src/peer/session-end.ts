/**
 * Why a peer session ended, as a value: the daemon and the CLI decide from `kind`, never by
 * searching the text, so rewording a message cannot change an exit code or a `--json` error code.
 */
import type { ByeCode } from '../wire/bye-codes.ts';

export { BYE_CODES, isByeCode, type ByeCode } from '../wire/bye-codes.ts';

/**
 * The kinds of end: the codes a BYE may carry (see BYE_CODES: identity, busy, protocol, timeout,
 * unread, duplicate, disconnected, local, internal), and two that no BYE names.
 */
export type SessionEndKind =
  | ByeCode
  /** The connection failed or closed without a BYE (reset, FIN, TLS error). */
  | 'transport'
  /** The peer said BYE without a code we know (an older or another peer). */
  | 'peerLeft';

export interface SessionEnd {
  kind: SessionEndKind;
  /** True when the other side ended it (its BYE); false when this side did, or the transport failed. */
  remote: boolean;
  /** What happened, for logs and messages, never parsed: our reason, or the reason in the peer's BYE. */
  detail: string;
}

/** The end as one line, as logs and the history show it: the other side's BYE as `peer left: REASON`. */
export function describeEnd(end: SessionEnd): string {
  return end.remote ? `peer left: ${end.detail || 'no reason given'}` : end.detail;
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
