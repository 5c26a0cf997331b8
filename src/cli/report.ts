/** How a failed command ends: one line (or a --json error object) and the contract's exit code. */
import { toCliError, UsageError } from './errors.ts';
import { human, humanLines } from './output.ts';
import { writeHuman, writeJson } from './terminal.ts';

/**
 * Prints a failure the one way every command does: one line on stderr (the stack only with DEBUG),
 * the JSON error object on stdout with --json, the help hint for usage errors. Returns the exit code.
 */
export function reportFailure(error: unknown, context: { profile: string; json: boolean; commandId: string }): number {
  const cliError = toCliError(error, context.profile);
  if (context.json) writeJson({ error: { code: cliError.code, message: cliError.message, exitCode: cliError.exitCode } });
  // The message may quote a peer (a BYE or decline reason): human`` escapes it, newlines included.
  writeHuman('stderr', human`chat: ${cliError.message}`);
  if (process.env.DEBUG && error instanceof Error && error.stack) writeHuman('stderr', humanLines(error.stack));
  if (cliError instanceof UsageError) writeHuman('stderr', human`See: chat ${context.commandId} --help`);
  return cliError.exitCode;
}
