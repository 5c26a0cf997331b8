/** The text of `chat send`: its arguments or standard input, checked against the message limit first. */
import { MAX_MESSAGE_BYTES } from '../control/protocol.ts';
import { formatByteSize } from '../text/sizes.ts';
import { UsageError } from './errors.ts';
import { human } from './output.ts';
import { writeHuman } from './terminal.ts';

/**
 * The message of `chat send`: the arguments joined by spaces, or standard input minus one trailing
 * newline. Text over MAX_MESSAGE_BYTES is a usage error here, before anything connects.
 */
export async function composeMessage(words: string[]): Promise<string> {
  const text = words.length > 0 ? words.join(' ') : await readStandardInput();
  if (text.length === 0) throw new UsageError('the message is empty: give it as arguments or on standard input');
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_MESSAGE_BYTES) throw tooLong(`the message is ${formatByteSize(bytes)} (${bytes} bytes),`);
  return text;
}

function tooLong(what: string): UsageError {
  return new UsageError(
    `${what} more than a message holds (${MAX_MESSAGE_BYTES / 1024} KiB, MAX_MESSAGE_BYTES = ${MAX_MESSAGE_BYTES} bytes): ` +
    'send large text as a file with chat transfer FILE',
  );
}

/** Reads at most what a message can hold (and its newline): a huge input fails early, without being kept. */
async function readStandardInput(): Promise<string> {
  if (process.stdin.isTTY) writeHuman('stderr', human`Type the message, then Ctrl-D:`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    total += (chunk as Buffer).length;
    // Two bytes of slack for the trailing newline (\r\n) that is not part of the message.
    if (total > MAX_MESSAGE_BYTES + 2) {
      process.stdin.destroy();
      throw tooLong('the message on standard input is');
    }
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
