import type { DisconnectResult } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { human, type HumanText } from '../cli/output.ts';

/** What `chat disconnect` did: closed the connection, stopped the redials, both, or nothing. */
function disconnectLine({ disconnected, peer, reconnectStopped }: DisconnectResult): HumanText {
  if (disconnected) return reconnectStopped ? human`disconnected from ${peer ?? ''}; not reconnecting` : human`disconnected from ${peer ?? ''}`;
  return reconnectStopped ? human`stopped reconnecting to ${reconnectStopped}` : human`not connected to a peer`;
}

export default class Disconnect extends BaseCommand {
  static override summary = 'Close the connection to your peer, and stop redialling it (the daemon keeps running).';
  static override examples = ['<%= config.bin %> <%= command.id %>'];
  static override enableJsonFlag = true;

  async run(): Promise<DisconnectResult> {
    const { flags } = await this.parse(Disconnect);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('disconnect', {});
    this.say(disconnectLine(result));
    return result;
  }
}
