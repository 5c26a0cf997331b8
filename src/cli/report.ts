import { toCliError, UsageError } from './errors.ts';
import { printableLine } from './output.ts';

/** Machine-readable output: the same indentation oclif uses for --json. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Prints a failure the one way every command does: one line on stderr (the stack only with DEBUG),
 * the JSON error object on stdout with --json, the help hint for usage errors. Returns the exit code.
 */
export function reportFailure(error: unknown, context: { profile: string; json: boolean; commandId: string }): number {
  const cliError = toCliError(error, context.profile);
  if (context.json) printJson({ error: { code: cliError.code, message: cliError.message, exitCode: cliError.exitCode } });
  // The message may quote a peer (a BYE or decline reason): never let it drive the terminal.
  process.stderr.write(`chat: ${printableLine(cliError.message)}\n`);
  if (process.env.DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  if (cliError instanceof UsageError) process.stderr.write(`See: chat ${context.commandId} --help\n`);
  return cliError.exitCode;
}
