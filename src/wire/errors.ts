/** A peer broke the protocol: the connection is closed and the reason logged. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}
