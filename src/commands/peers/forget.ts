import { Args } from '@oclif/core';
import type { ForgetPeerResult } from '../../control/protocol.ts';
import { formatFingerprint } from '../../identity/fingerprint-notation.ts';
import { BaseCommand } from '../../cli/base-command.ts';
import { human } from '../../cli/output.ts';

export default class PeersForget extends BaseCommand {
  static override summary = 'Forget the key pinned to a peer name.';
  static override description =
    'Do this when a peer has really changed its key (a new machine, a new profile): the next connection under ' +
    'that name pins the key it presents. Check the new fingerprint with them first.';
  static override examples = ['<%= config.bin %> <%= command.id %> bob'];
  static override enableJsonFlag = true;
  static override args = {
    name: Args.string({ description: 'The peer name, as "chat peers" lists it', required: true }),
  };

  async run(): Promise<ForgetPeerResult> {
    const { args, flags } = await this.parse(PeersForget);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('peers.forget', { name: args.name });
    this.say(human`forgot ${result.forgotten.name} (fingerprint ${formatFingerprint(result.forgotten.fingerprint)})`);
    return result;
  }
}
