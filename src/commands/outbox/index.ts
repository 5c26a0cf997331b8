import type { OutboxResult } from '../../control/protocol.ts';
import { formatFingerprint } from '../../identity/fingerprint-notation.ts';
import { BaseCommand } from '../../cli/base-command.ts';
import { formatTime, human } from '../../cli/output.ts';

/** How much of a queued message a line shows. */
const PREVIEW_CHARACTERS = 60;

export default class Outbox extends BaseCommand {
  static override summary = 'List the messages queued for a peer that is not reachable yet.';
  static override description =
    'Messages that "chat send" queued (it exited 4) and that the peer has not acknowledged yet, per peer key, ' +
    'oldest first: each is delivered, once and in this order, as soon as that peer is connected again. ' +
    '"chat outbox drop" takes messages out.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];
  static override enableJsonFlag = true;

  async run(): Promise<OutboxResult> {
    const { flags } = await this.parse(Outbox);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('outbox', {});
    if (result.peers.length === 0) this.say(human`nothing queued: every message was delivered`);
    for (const peer of result.peers) {
      this.say(human`${peer.name} (fingerprint ${formatFingerprint(peer.fingerprint)}): ${peer.count} ${peer.count === 1 ? 'message' : 'messages'} queued`);
      for (const message of peer.messages) this.say(human`  ${formatTime(message.time)}  ${message.id}  ${preview(message.text)}`);
      if (peer.messages.length < peer.count) this.say(human`  … and ${peer.count - peer.messages.length} more`);
    }
    return result;
  }
}

/** The first line, shortened: one line per message. */
function preview(text: string): string {
  const [first = ''] = text.split('\n');
  const chars = [...first];
  const more = chars.length > PREVIEW_CHARACTERS || text.includes('\n');
  return chars.slice(0, PREVIEW_CHARACTERS).join('') + (more ? '…' : '');
}
