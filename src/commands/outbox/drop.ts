import { Args, Flags } from '@oclif/core';
import type { OutboxDropResult } from '../../control/protocol.ts';
import { BaseCommand } from '../../cli/base-command.ts';
import { UsageError } from '../../cli/errors.ts';
import { human } from '../../cli/output.ts';
import { ID_PROBLEM, parseMessageId } from '../../cli/send-request.ts';

export default class OutboxDrop extends BaseCommand {
  static override summary = 'Take queued messages out of the outbox: they will not be sent.';
  static override description =
    'Drops one queued message by its id (as "chat outbox" and "chat send --json" show it), or all of them with --all. ' +
    'The history records each as dropped. A message that was already on its way when it was dropped may still arrive ' +
    '(it is then recorded as delivered too).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 5f0c8a52-8a47-4b1e-9d61-2f1c3c1b7e01',
    '<%= config.bin %> <%= command.id %> --all',
  ];
  static override enableJsonFlag = true;
  static override args = {
    id: Args.string({ description: 'the id of the queued message' }),
  };
  static override flags = {
    all: Flags.boolean({ description: 'Drop every queued message, for every peer.', default: false }),
  };

  async run(): Promise<OutboxDropResult> {
    const { args, flags } = await this.parse(OutboxDrop);
    if ((args.id === undefined) === !flags.all) throw new UsageError('give the id of one queued message, or --all');
    const id = args.id === undefined ? undefined : parseMessageId(args.id);
    if (args.id !== undefined && id === undefined) throw new UsageError(`invalid message id "${args.id}": ${ID_PROBLEM}`);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('outbox.drop', id === undefined ? { all: true } : { id });
    this.say(human`dropped ${result.dropped} queued ${result.dropped === 1 ? 'message' : 'messages'}`);
    return result;
  }
}
