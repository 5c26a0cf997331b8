/**
 * The machine-readable codes a BYE may carry in its optional `code` field, so that the other side
 * learns why the connection ends without reading the reason's text.
 */
export const BYE_CODES = [
  /** A key was refused: not the pinned one, or not the one `--fingerprint` expects. */
  'identity',
  /** No room for this connection now: the peer slot is taken, no new name may be pinned, too many handshakes. */
  'busy',
  /** A frame broke the peer protocol (including no common version). */
  'protocol',
  /** No handshake within the deadline, or no sign of life within the keepalive limit. */
  'timeout',
  /** The other side did not read what it was sent (the output bound). */
  'unread',
  /** Another connection with the same key was kept instead. */
  'duplicate',
  /** The user ended it (`chat disconnect`): neither side redials after it. */
  'disconnected',
  /** Ended on purpose otherwise: the daemon is stopping (its peer redials: it may be restarting). */
  'local',
  /** Something failed on the sender's side (a history write): not the receiver's fault. */
  'internal',
] as const;

export type ByeCode = (typeof BYE_CODES)[number];

export function isByeCode(value: unknown): value is ByeCode {
  return typeof value === 'string' && (BYE_CODES as readonly string[]).includes(value);
}
