import type { PeersResult } from '../../control/protocol.ts';
import { formatFingerprint } from '../../identity/fingerprint-notation.ts';
import { BaseCommand } from '../../cli/base-command.ts';
import { formatTime, human } from '../../cli/output.ts';

export default class Peers extends BaseCommand {
  static override summary = 'List the peers whose keys are pinned.';
  static override description =
    'The first time a peer name connects, its key is pinned to that name. Later, the same name with another ' +
    'key is refused until you run "chat peers forget NAME".';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];
  static override enableJsonFlag = true;

  async run(): Promise<PeersResult> {
    const { flags } = await this.parse(Peers);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('peers', {});
    if (result.peers.length === 0) this.say(human`no pinned peers yet; a peer is pinned the first time it connects`);
    for (const peer of result.peers) {
      this.say(human`${peer.name}`);
      this.say(human`  fingerprint  ${formatFingerprint(peer.fingerprint)}`);
      this.say(human`  first seen   ${formatTime(peer.firstSeen)}    last seen  ${formatTime(peer.lastSeen)}`);
    }
    return result;
  }
}
