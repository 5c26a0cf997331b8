import { Args, Flags } from '@oclif/core';
import { MAX_MESSAGE_BYTES, type SendParams, type SendResult } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { ExitCode } from '../cli/errors.ts';
import { composeMessage } from '../cli/message-input.ts';
import {
  DEFAULT_TIMEOUT_SECONDS,
  ID_PROBLEM,
  parseMessageId,
  requestSend,
  sendOutcomeLine,
} from '../cli/send-request.ts';
import { timeoutFlag, waitFlag } from '../cli/wait-flags.ts';

export default class Send extends BaseCommand {
  static override summary = 'Send one message to your peer.';
  static override description =
    'The arguments, joined by spaces, are the message; with no argument the message is read from standard ' +
    `input (one trailing newline removed). A message holds at most ${MAX_MESSAGE_BYTES / 1024} KiB: send larger text with "chat transfer". ` +
    'The message is first kept on this side\'s disk, then delivered. Exits 0 once the peer\'s daemon has it on its disk. ' +
    'If the peer is not reachable (within --timeout), exits 4: the message is queued and will be delivered, once and in ' +
    'order, when the peer is reachable again (see "chat outbox"); do not send it again. While no peer is connected, ' +
    'the message goes to the peer this daemon was connected to last.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> hello Bob',
    { description: 'A message that starts with a dash', command: '<%= config.bin %> <%= command.id %> -- -x' },
    { description: 'From standard input, several lines', command: 'git log -3 --oneline | <%= config.bin %> <%= command.id %>' },
    { description: 'A script that may run twice: the same id is the same message, never two', command: '<%= config.bin %> <%= command.id %> --id "$(uuidgen)" "backup done"' },
    { description: 'Queue it and go on (exit 4 until it is delivered)', command: '<%= config.bin %> <%= command.id %> --no-wait "see you tomorrow"' },
  ];
  static override strict = false;
  static override args = {
    text: Args.string({
      description: `The message: the words joined by spaces (standard input when none is given); at most ${MAX_MESSAGE_BYTES / 1024} KiB, larger text goes as a file with "chat transfer".`,
    }),
  };
  static override enableJsonFlag = true;
  static override flags = {
    timeout: timeoutFlag(`Seconds to wait for the delivery before exiting 4 (queued) [default: ${DEFAULT_TIMEOUT_SECONDS}].`),
    wait: waitFlag('Wait for the delivery (--no-wait: exit 4 as soon as the message is queued, 0 if it was delivered already; the same as --timeout 0).'),
    id: Flags.custom<string>({
      description: 'The message\'s id, a UUID: sending with an id that was sent already is the same message, never a second one (a retry with another text is refused).',
      helpValue: 'UUID',
      parse: async (input) => {
        const id = parseMessageId(input);
        if (id === undefined) throw new Error(`invalid value "${input}": ${ID_PROBLEM}`);
        return id;
      },
    })(),
  };

  async run(): Promise<SendResult> {
    const { argv, flags } = await this.parse(Send);
    const text = await composeMessage(argv as string[]);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const params: SendParams = { text, ...(flags.id === undefined ? {} : { id: flags.id }) };
    const waitMs = flags.wait ? flags.timeout : 0;
    if (waitMs !== undefined) params.waitMs = waitMs;
    const result = await requestSend(client, params);
    if (result.state === 'queued') {
      if (this.jsonEnabled()) this.sayJson(result);
      else this.say(sendOutcomeLine(result));
      this.exit(ExitCode.queued);
    }
    this.say(sendOutcomeLine(result));
    return result;
  }
}
