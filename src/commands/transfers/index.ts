import type { TransfersResult } from '../../control/protocol.ts';
import { BaseCommand } from '../../cli/base-command.ts';
import { formatBytes, formatTime, human } from '../../cli/output.ts';

export default class Transfers extends BaseCommand {
  static override summary = 'List the unfinished transfers, both ways, with the bytes done.';
  static override description =
    'A transfer interrupted by a dropped link or a restart continues by itself when the peer is back. ' +
    'Outgoing ones show the bytes sent since this daemon started; incoming ones the bytes held on disk. ' +
    'One whose receiver has no room (a full disk) shows why; it resumes by itself once there is room. ' +
    '"chat transfers cancel ID" gives one up.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];
  static override enableJsonFlag = true;

  async run(): Promise<TransfersResult> {
    const { flags } = await this.parse(Transfers);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('transfers', {});
    if (result.transfers.length === 0) this.say(human`no unfinished transfers`);
    for (const transfer of result.transfers) {
      const arrow = transfer.direction === 'out' ? 'to' : 'from';
      const who = transfer.peer || transfer.peerFingerprint.slice(0, 16);
      this.say(human`${transfer.direction}  ${transfer.name}  ${formatBytes(transfer.bytes)} of ${formatBytes(transfer.size)}  ${arrow} ${who}`);
      this.say(human`  id ${transfer.id}    started ${formatTime(transfer.started)}`);
      if (transfer.waitingForRoom !== undefined) this.say(human`  waiting for room: ${transfer.waitingForRoom}; it resumes by itself once there is room`);
    }
    return result;
  }
}
