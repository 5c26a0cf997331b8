import { Args, Flags } from '@oclif/core';
import type { AddPeerResult } from '../../control/protocol.ts';
import { formatFingerprint, parseFingerprint } from '../../identity/fingerprint-notation.ts';
import { BaseCommand } from '../../cli/base-command.ts';
import { UsageError } from '../../cli/errors.ts';
import { human } from '../../cli/output.ts';

export default class PeersAdd extends BaseCommand {
  static override summary = 'Pin a peer\'s key before it first connects.';
  static override description =
    'Use the fingerprint the peer gave you over a channel you trust ("chat id" shows it on their side). ' +
    'Their first connection is then checked against it, and a daemon started with --accept known lets them in.';
  static override examples = ['<%= config.bin %> <%= command.id %> bob --fingerprint "3f2a 9c01 …"'];
  static override enableJsonFlag = true;
  static override args = {
    name: Args.string({ description: 'The name the peer uses (its --name, or profile)', required: true }),
  };
  static override flags = {
    fingerprint: Flags.string({ description: 'The peer\'s fingerprint; spaces and colons are ignored.', required: true }),
  };

  async run(): Promise<AddPeerResult> {
    const { args, flags } = await this.parse(PeersAdd);
    const fingerprint = parseFingerprint(flags.fingerprint);
    if (!fingerprint) throw new UsageError(`invalid --fingerprint "${flags.fingerprint}": expected 64 hex digits (SHA-256), as "chat id" prints it`);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('peers.add', { name: args.name, fingerprint });
    const what = result.alreadyPinned ? 'already pinned' : 'pinned';
    this.say(human`${what} ${result.added.name} (fingerprint ${formatFingerprint(result.added.fingerprint)})`);
    return result;
  }
}
