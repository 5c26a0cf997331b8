import { Flags } from '@oclif/core';
import { DEFAULT_INVITE_MS, MAX_INVITE_MS, type InviteCancelResult, type InviteResult } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { UsageError } from '../cli/errors.ts';
import { human } from '../cli/output.ts';
import { timeLeft } from '../cli/status-view.ts';
import { writeHuman } from '../cli/terminal.ts';
import { parseDuration } from '../text/durations.ts';

/** What `chat invite --json` prints: the invite's fields, and the line to send. */
type InviteOutput = (InviteResult & { command: string }) | InviteCancelResult;

export default class Invite extends BaseCommand {
  static override summary = 'Let one new peer connect, and print the line to send them.';
  static override description =
    'Once your daemon has a peer pinned, a new peer that dials you is refused unless you dialled it yourself ' +
    'or an invite is open. The invite lets in the next one new peer, until it is used or its time is up. ' +
    'Prints one line for the peer to paste: "chat connect HOST:PORT --fingerprint YOURS", which also ' +
    'checks on their side that they reached you. Send it over a channel you trust.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    { description: 'Open for an hour', command: '<%= config.bin %> <%= command.id %> --for 1h' },
    { description: 'Close it again', command: '<%= config.bin %> <%= command.id %> --cancel' },
  ];
  static override enableJsonFlag = true;
  static override flags = {
    for: Flags.string({
      description: `How long the invite stays open: seconds, or 90s, 10m, 2h (at most ${MAX_INVITE_MS / 3_600_000} h). Default: ${DEFAULT_INVITE_MS / 60_000}m.`,
    }),
    cancel: Flags.boolean({ description: 'Close the open invite.', exclusive: ['for'] }),
  };

  async run(): Promise<InviteOutput> {
    const { flags } = await this.parse(Invite);
    const forMs = flags.for === undefined ? undefined : parseDuration(flags.for);
    if (flags.for !== undefined && (forMs === undefined || forMs > MAX_INVITE_MS)) {
      throw new UsageError(`invalid --for "${flags.for}": use seconds, or 90s, 10m, 2h, up to ${MAX_INVITE_MS / 3_600_000}h`);
    }
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    if (flags.cancel) {
      const result = await client.request('invite.cancel', {});
      this.say(human`${result.cancelled ? 'invite cancelled' : 'no invite was open'}`);
      return result;
    }
    const result = await client.request('invite', forMs === undefined ? {} : { forMs });
    const command = `chat connect ${result.addresses[0]} --fingerprint ${result.fingerprint}`;
    this.say(human`${command}`);
    if (!this.jsonEnabled()) {
      writeHuman('stderr', human`invite open for ${timeLeft(result.invite)}, for one new peer: send them the line above`);
      if (result.addresses.length > 1) writeHuman('stderr', human`other addresses of this daemon: ${result.addresses.slice(1).join(', ')}`);
    }
    return { ...result, command };
  }
}
