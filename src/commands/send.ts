import type { SendResult } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { UsageError } from '../cli/errors.ts';

/** Long enough for a peer busy with a large transfer; a lost peer fails sooner. */
const SEND_TIMEOUT_MS = 60_000;

export default class Send extends BaseCommand {
  static override summary = 'Send one message to your peer.';
  static override description =
    'The arguments, joined by spaces, are the message; with no argument the message is read from standard ' +
    'input (one trailing newline removed). Exits 0 once the peer\'s daemon has acknowledged it.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> hello Bob',
    { description: 'A message that starts with a dash', command: '<%= config.bin %> <%= command.id %> -- -x' },
    { description: 'From standard input, several lines', command: 'git log -3 --oneline | <%= config.bin %> <%= command.id %>' },
  ];
  static override strict = false;
  static override enableJsonFlag = true;

  async run(): Promise<SendResult> {
    const { argv, flags } = await this.parse(Send);
    const words = argv as string[];
    const text = words.length > 0 ? words.join(' ') : await readStandardInput();
    if (text.length === 0) throw new UsageError('the message is empty: give it as arguments or on standard input');
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('send', { text }, SEND_TIMEOUT_MS);
    this.log(`delivered to ${result.to}`);
    return result;
  }
}

async function readStandardInput(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Type the message, then Ctrl-D:\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
