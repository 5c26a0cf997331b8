import { UsageError } from './errors.ts';
import { human } from './output.ts';
import { writeHuman } from './terminal.ts';

/** A peer busy with a large transfer still acknowledges quickly; a lost peer fails sooner. */
export const SEND_TIMEOUT_MS = 60_000;

/** The message of `chat send`: the arguments joined by spaces, or standard input minus one trailing newline. */
export async function composeMessage(words: string[]): Promise<string> {
  const text = words.length > 0 ? words.join(' ') : await readStandardInput();
  if (text.length === 0) throw new UsageError('the message is empty: give it as arguments or on standard input');
  return text;
}

async function readStandardInput(): Promise<string> {
  if (process.stdin.isTTY) writeHuman('stderr', human`Type the message, then Ctrl-D:`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
