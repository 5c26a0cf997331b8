/** The `--timeout SECONDS` and `--wait/--no-wait` flags of the commands that wait for the peer (send, transfer). */
import { Flags } from '@oclif/core';
import { parseTimeoutSeconds, TIMEOUT_PROBLEM } from './send-request.ts';

/** `--timeout SECONDS`, in milliseconds once parsed; `description` says what is waited for. */
export function timeoutFlag(description: string) {
  return Flags.custom<number>({
    description,
    helpValue: 'SECONDS',
    parse: async (input) => {
      const ms = parseTimeoutSeconds(input);
      if (ms === undefined) throw new Error(`invalid value "${input}": ${TIMEOUT_PROBLEM}`);
      return ms;
    },
  })();
}

/** `--wait` (the default) and `--no-wait`. */
export function waitFlag(description: string) {
  return Flags.boolean({ description, default: true, allowNo: true });
}
