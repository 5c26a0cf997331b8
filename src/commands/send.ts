import type { SendResult } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { human } from '../cli/output.ts';
import { SEND_TIMEOUT_MS } from '../control/client.ts';
import { composeMessage } from '../cli/message-input.ts';

export default class Send extends BaseCommand {
  static override summary = 'Send one message to your peer.';
  static override description =
    'The arguments, joined by spaces, are the message; with no argument the message is read from standard ' +
    'input (one trailing newline removed). A message holds at most 256 KiB: send larger text with "chat transfer". ' +
    'Exits 0 once the peer\'s daemon has acknowledged it.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> hello Bob',
    { description: 'A message that starts with a dash', command: '<%= config.bin %> <%= command.id %> -- -x' },
    { description: 'From standard input, several lines', command: 'git log -3 --oneline | <%= config.bin %> <%= command.id %>' },
  ];
  static override strict = false;
  static override enableJsonFlag = true;

  async run(): Promise<SendResult> {
    const { argv, flags } = await this.parse(Send);
    const text = await composeMessage(argv as string[]);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('send', { text }, SEND_TIMEOUT_MS);
    this.say(human`delivered to ${result.to}`);
    return result;
  }
}
