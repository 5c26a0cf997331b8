/**
 * Why `chat daemon start` could not start chatd. Its own module so that the CLI's error mapping
 * (src/cli/errors.ts, loaded by the `chat send` fast path) does not load the spawning code.
 */
export class DaemonStartError extends Error {
  override name = 'DaemonStartError';
  readonly alreadyRunning: boolean;

  constructor(message: string, alreadyRunning = false) {
    super(message);
    this.alreadyRunning = alreadyRunning;
  }
}
