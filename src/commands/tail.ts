import { Flags } from '@oclif/core';
import type { ChatEvent } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { followEvents } from '../cli/event-feed.ts';
import { fetchLatestEvents } from '../cli/history-pages.ts';
import { formatEvent } from '../cli/output.ts';
import { writeHuman, writeJsonLine } from '../cli/terminal.ts';

export default class Tail extends BaseCommand {
  static override summary = 'Show the latest messages, files and connection events, then follow new ones.';
  static override description =
    'Prints the last N events of the history, then keeps printing new ones until interrupted (Ctrl-C) or the ' +
    'daemon stops. With --json, one JSON object per line (NDJSON) with type, direction, from, to, time and, per ' +
    'type, text (message), name/size/sha256/path (file) or state/address (peer).';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    { description: 'Last 50 events, then stop', command: '<%= config.bin %> <%= command.id %> -n 50 --no-follow' },
    { description: 'Feed a script', command: '<%= config.bin %> <%= command.id %> --json | jq -r \'select(.type=="message") | .text\'' },
  ];
  static override flags = {
    lines: Flags.integer({ char: 'n', description: 'How many past events to print first.', default: 10, min: 0 }),
    follow: Flags.boolean({ description: 'Keep printing new events (--no-follow prints the past ones and exits).', default: true, allowNo: true }),
    json: Flags.boolean({ description: 'One JSON object per event and line (NDJSON).', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Tail);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const print = (event: ChatEvent) => {
      if (flags.json) writeJsonLine(event);
      else writeHuman('stdout', formatEvent(event));
    };
    if (!flags.follow) {
      for (const event of await fetchLatestEvents(client, flags.lines)) print(event);
      return;
    }
    const ended = new Promise<void>((resolve) => {
      client.onClose(resolve);
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      process.stdout.on('error', () => resolve());
    });
    await followEvents(client, flags.lines, print);
    await ended;
  }
}
