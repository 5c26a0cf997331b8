/**
 * What a failed session was, from its typed end (src/peer/session-end.ts), never from its text:
 * which refusal, ours or theirs, `chat connect` reports.
 */
import type { SessionEnd } from '../peer/session-end.ts';
import type { AdmissionVerdict } from './admission.ts';

/** The BYE reason of `chat disconnect` (code `disconnected`): after it, on either side, nobody redials. */
export const USER_DISCONNECT_REASON = 'disconnected by user';
/** The BYE reason of a daemon that stops (code `local`): its peer redials (the daemon may be restarting). */
export const DAEMON_STOPPING_REASON = 'daemon stopping';

/** What this side's admission refused for: the key, the slot, or a name it may not pin now. */
export type RefusalKind = Extract<AdmissionVerdict, { verdict: 'refuse' }>['kind'];

/** A refusal that ended a session. */
export interface Refusal {
  kind: RefusalKind;
  /** True when the other side refused; false when this side did. */
  remote: boolean;
  /** The refusal as its side said it (`identity: …`, `busy: …`). */
  detail: string;
}

/** An error's message as `chat connect` and the log show it: "connection closed: …" for a session's end. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^peer connection closed: /, 'connection closed: ') : String(error);
}

/**
 * The refusal `end` was, if any. `ours` is the kind our own admission refused with, when it did:
 * on the wire a refused new name is a kind of busy, and only we know which of the two it was.
 * Another side's refusal is what its BYE code says (a peer without codes refuses as `peerLeft`).
 */
export function refusalOf(end: SessionEnd | undefined, ours?: RefusalKind): Refusal | undefined {
  if (!end || (end.kind !== 'identity' && end.kind !== 'busy')) return undefined;
  const kind = !end.remote && ours === 'newPeer' ? 'newPeer' : end.kind;
  return { kind, remote: end.remote, detail: end.detail };
}
