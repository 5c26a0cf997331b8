import type { IdentityResult } from '../control/protocol.ts';
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { human, paint } from '../cli/output.ts';

export default class Id extends BaseCommand {
  static override summary = 'Show your name and fingerprint, to give to your peer.';
  static override description =
    'The fingerprint is the SHA-256 of this profile\'s public key. Read it to your peer over a channel you ' +
    'trust (in person, by phone); they compare it with what "chat peers" or "chat daemon status" shows ' +
    'on their side, or connect with "chat connect PORT --fingerprint FP".';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    { description: 'Just the fingerprint, for a script', command: '<%= config.bin %> <%= command.id %> --json | jq -r .fingerprint' },
  ];
  static override enableJsonFlag = true;

  async run(): Promise<IdentityResult> {
    const { flags } = await this.parse(Id);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const identity = await client.request('identity', {});
    this.say(human`name         ${paint('name', identity.name)}`);
    this.say(human`fingerprint  ${formatFingerprint(identity.fingerprint)}`);
    return identity;
  }
}
