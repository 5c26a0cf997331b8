/** The CLI's failures as values: a stable code for --json and the contract's exit code for each. */
import { ControlError, DaemonGoneError, DaemonNotRunningError } from '../control/client.ts';
import { DEFAULT_PROFILE, InvalidProfileError } from '../control/paths.ts';
import { ErrorCode } from '../control/protocol.ts';
import { UntrustedSocketError } from '../control/socket-trust.ts';
import { DaemonStartError } from '../control/start-error.ts';

/**
 * The contract's exit codes. `queued` (`chat send`): the message is safe on this side's disk and
 * will be delivered when the peer is reachable; do not send it again.
 */
export const ExitCode = { ok: 0, failure: 1, usage: 2, notRunning: 3, queued: 4 } as const;

/** A failure the CLI reports as one line, with a stable code for --json and an exit code. */
export class CliError extends Error {
  override name = 'CliError';
  readonly code: string;
  readonly exitCode: number;

  constructor(code: string, message: string, exitCode: number = ExitCode.failure) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad flag, argument or input: exit 2. */
export class UsageError extends CliError {
  override name = 'UsageError';

  constructor(message: string) {
    super('usage', message, ExitCode.usage);
  }
}

/** No daemon for this profile: exit 1 with the command that starts one. */
export class NotRunningError extends CliError {
  override name = 'NotRunningError';

  constructor(profile: string) {
    const flag = profile === DEFAULT_PROFILE ? '' : ` --profile ${profile}`;
    super('not_running', `the chat daemon is not running for profile "${profile}"; start it with: chat daemon start${flag}`);
  }
}

const codeNames: Record<number, string> = Object.fromEntries(
  Object.entries(ErrorCode).map(([name, code]) => [code, name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]),
);

/** Turns whatever a command threw into the one error the user sees. */
export function toCliError(error: unknown, profile: string): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof DaemonNotRunningError) return new NotRunningError(profile);
  if (error instanceof UntrustedSocketError) return new CliError('untrusted_socket', error.message);
  if (error instanceof InvalidProfileError) return new UsageError(error.message);
  if (error instanceof DaemonGoneError) return new CliError('daemon_gone', `${error.message}; is it still running? (chat daemon status)`);
  if (error instanceof DaemonStartError) return new CliError('start_failed', `cannot start the daemon: ${error.message}`);
  if (error instanceof ControlError) {
    const exitCode = error.code === ErrorCode.invalidParams ? ExitCode.usage : ExitCode.failure;
    return new CliError(codeNames[error.code] ?? `rpc_${error.code}`, error.message, exitCode);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CliError('internal', message);
}
