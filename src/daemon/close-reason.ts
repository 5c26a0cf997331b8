/**
 * What a failed session's error says, read from its text: the one place that recovers a failure
 * kind from words, until the typed SessionEnd of src/peer/session-end.ts replaces it here.
 */
import { BUSY_REFUSAL, IDENTITY_REFUSAL, NEW_PEER_REFUSAL } from './admission.ts';

/** The BYE reason of `chat disconnect`: after it, on either side, nobody redials. */
export const USER_DISCONNECT_REASON = 'disconnected by user';
/** The BYE reason of a daemon that stops: its peer redials (the daemon may be restarting). */
export const DAEMON_STOPPING_REASON = 'daemon stopping';

/**
 * Whether a session ended because a user asked: this side's `chat disconnect`, or the other
 * side's, whose BYE reason the session reports as "peer left: …".
 */
export function endedByUser(reason: string): boolean {
  return reason === USER_DISCONNECT_REASON || reason === `peer left: ${USER_DISCONNECT_REASON}`;
}

/** A refusal that ended a session's handshake. */
export interface Refusal {
  kind: 'identity' | 'newPeer' | 'busy';
  /** True when the other side refused; false when this side did. */
  remote: boolean;
  /** The refusal, from its prefix (IDENTITY_REFUSAL, BUSY_REFUSAL, NEW_PEER_REFUSAL) on. */
  detail: string;
}

/** An error's message as `chat connect` and the log show it: "connection closed: …" for a session's end. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^peer connection closed: /, 'connection closed: ') : String(error);
}

/**
 * The refusal a session's end was, if any. `end` is the reason its `ready` failed with
 * (reasonOf: "connection closed: …" when this side closed it, "peer left: …" when the other did),
 * or, `atAdoption`, the close reason of a session this side refused once its handshake was done,
 * which is a refusal of a new name or else one of the key.
 */
export function refusalOf(end: string, atAdoption = false): Refusal | undefined {
  if (atAdoption) return { kind: end.startsWith(NEW_PEER_REFUSAL) ? 'newPeer' : 'identity', remote: false, detail: end };
  const from = (tag: string) => end.slice(end.indexOf(tag));
  if (end.includes(IDENTITY_REFUSAL)) {
    return { kind: 'identity', remote: !end.includes(`closed: ${IDENTITY_REFUSAL}`), detail: from(IDENTITY_REFUSAL) };
  }
  if (end.includes(`closed: ${NEW_PEER_REFUSAL}`)) return { kind: 'newPeer', remote: false, detail: from(NEW_PEER_REFUSAL) };
  if (end.includes(`closed: ${BUSY_REFUSAL}`)) return { kind: 'busy', remote: false, detail: from(BUSY_REFUSAL) };
  if (end.includes(BUSY_REFUSAL)) return { kind: 'busy', remote: true, detail: from(BUSY_REFUSAL) };
  return undefined;
}
