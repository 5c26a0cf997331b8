import { Args } from '@oclif/core';
import type { CancelTransferResult } from '../../control/protocol.ts';
import { BaseCommand } from '../../cli/base-command.ts';
import { human } from '../../cli/output.ts';

export default class TransfersCancel extends BaseCommand {
  static override summary = 'Give up an unfinished transfer, either way.';
  static override description =
    'Both sides remove the partial file: at once when the peer is connected, otherwise the receiver removes ' +
    'its own now, and a sender that offers the transfer again is declined.';
  static override examples = ['<%= config.bin %> <%= command.id %> 5f0c8a52-8a47-4b1e-9d61-2f1c3c1b7e01'];
  static override enableJsonFlag = true;
  static override args = {
    id: Args.string({ description: 'The transfer id, as "chat transfers" lists it', required: true }),
  };

  async run(): Promise<CancelTransferResult> {
    const { args, flags } = await this.parse(TransfersCancel);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('transfers.cancel', { id: args.id });
    const { cancelled } = result;
    this.say(human`cancelled ${cancelled.direction === 'out' ? 'outgoing' : 'incoming'} transfer of ${cancelled.name} (${cancelled.id})`);
    return result;
  }
}
