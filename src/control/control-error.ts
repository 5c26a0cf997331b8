/**
 * The one error of the control protocol, on both ends of the socket: a JSON-RPC error with one of
 * our codes (ErrorCode), thrown by the daemon's handlers and by the client's requests.
 */
export class ControlError extends Error {
  override name = 'ControlError';
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}
