/**
 * The only place in src/cli/, src/commands/ and src/hooks/ that writes to standard output or error
 * (test/cli/print-paths.test.ts checks it): a person gets HumanText only, a script gets JSON.
 */
import { colourEnabled } from './colour.ts';
import type { HumanText } from './output.ts';
import { safeJson } from '../text/safe-json.ts';

export type OutputStream = 'stdout' | 'stderr';

/** One or more lines for a person, in colour where colourEnabled() says so; a newline is added. */
export function writeHuman(stream: OutputStream, text: HumanText): void {
  process[stream].write(`${colourEnabled(process[stream]) ? text.painted : text.text}\n`);
}

/**
 * Machine-readable output: the same indentation oclif uses for --json. The text is exact once
 * parsed; characters that could drive a terminal are written as `\uXXXX` (safeJson).
 */
export function writeJson(value: unknown): void {
  process.stdout.write(`${safeJson(value, 2)}\n`);
}

/** One JSON value per line (NDJSON, `chat tail --json`), escaped as writeJson's. */
export function writeJsonLine(value: unknown): void {
  process.stdout.write(`${safeJson(value)}\n`);
}

/**
 * Moves the cursor up `rows` rows, to the start of that line, and clears everything from there
 * down: the console's status lines and its prompt, before it writes a line above them and draws
 * them again.
 */
export function eraseConsoleArea(rows: number): void {
  process.stdout.write(`${rows > 0 ? `\u001b[${rows}A` : ''}\r\u001b[J`);
}
