/** What a line typed in `chat console` asks for: a message, a file, or one of the console's commands. */

export type TypedLine =
  | { kind: 'message'; text: string }
  | { kind: 'transfer'; file: string }
  | { kind: 'connect'; target: string }
  | { kind: 'disconnect' }
  | { kind: 'help' }
  | { kind: 'quit' }
  /** A command without the argument it needs: `usage` says how to write it. */
  | { kind: 'usage'; usage: string }
  /** `/word` that is no command: refused here, never sent (a typo must not reach the peer). */
  | { kind: 'unknown'; word: string };

export const TRANSFER_USAGE = 'usage: transfer FILE (or /transfer FILE); ~ is your home directory';
export const CONNECT_USAGE = 'usage: /connect PORT (or HOST:PORT, [IPv6]:PORT)';

/** The console's commands as /help lists them, each with what it does. */
export const CONSOLE_COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ['TEXT', 'send a line; while no peer is connected it waits in the outbox for the last one'],
  ['transfer FILE', 'send a file in the background (also /transfer); typing goes on meanwhile'],
  ['/connect PORT', 'connect to a peer\'s daemon (or HOST:PORT, [IPv6]:PORT)'],
  ['/disconnect', 'close the connection (the daemon keeps running)'],
  ['//TEXT', 'send a line that starts with "/"'],
  ['/help', 'this list'],
  ['/quit', 'leave (also /exit, Ctrl-D); the daemon keeps running'],
];

/** Reads one typed line (already trimmed, not empty). */
export function parseTypedLine(line: string): TypedLine {
  if (line.startsWith('//')) return { kind: 'message', text: line.slice(1) };
  const command = /^\/(\S*)\s*(.*)$/s.exec(line);
  const bareTransfer = /^transfer(?:\s+(.*))?$/s.exec(line);
  if (bareTransfer) return transferOf(bareTransfer[1]);
  if (!command) return { kind: 'message', text: line };
  const word = command[1]!.toLowerCase();
  const rest = command[2]!.trim();
  switch (word) {
    case 'transfer':
      return transferOf(rest);
    case 'connect':
      return rest === '' ? { kind: 'usage', usage: CONNECT_USAGE } : { kind: 'connect', target: rest };
    case 'disconnect':
      return { kind: 'disconnect' };
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'quit':
    case 'exit':
      return { kind: 'quit' };
    default:
      return { kind: 'unknown', word: `/${command[1]!}` };
  }
}

function transferOf(file: string | undefined): TypedLine {
  const trimmed = file?.trim() ?? '';
  return trimmed === '' ? { kind: 'usage', usage: TRANSFER_USAGE } : { kind: 'transfer', file: trimmed };
}
