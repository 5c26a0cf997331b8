import type { DisconnectResult } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { human } from '../cli/output.ts';

export default class Disconnect extends BaseCommand {
  static override summary = 'Close the connection to your peer (the daemon keeps running).';
  static override examples = ['<%= config.bin %> <%= command.id %>'];
  static override enableJsonFlag = true;

  async run(): Promise<DisconnectResult> {
    const { flags } = await this.parse(Disconnect);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('disconnect', {});
    this.say(result.disconnected ? human`disconnected from ${result.peer ?? ''}` : human`not connected to a peer`);
    return result;
  }
}
