import { Flags } from '@oclif/core';
import type { ChatEvent } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { CliError } from '../cli/errors.ts';
import { followResuming, MAX_RESUME_ATTEMPTS } from '../cli/event-feed.ts';
import { printEvent, printPastEvents } from '../cli/past-events.ts';
import { human } from '../cli/output.ts';
import { writeHuman } from '../cli/terminal.ts';

export default class Tail extends BaseCommand {
  static override summary = 'Show the latest messages, files and connection events, then follow new ones.';
  static override description =
    'Prints the last N events of the history, then keeps printing new ones until interrupted (Ctrl-C), the ' +
    'daemon stops, or whatever reads its output goes away (| head: it ends at once, exit 0). With --json, one ' +
    'JSON object per line (NDJSON) with seq, type, direction, from, to, time and, per type, text (message), ' +
    'name/size/sha256/path (file) or state/address (peer). If the daemon closes the connection because this ' +
    'tail fell behind (it was stopped, or its output is slow), it reconnects and goes on after the last event ' +
    'it printed: nothing is lost or printed twice.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    { description: 'Last 50 events, then stop', command: '<%= config.bin %> <%= command.id %> -n 50 --no-follow' },
    { description: 'Feed a script', command: '<%= config.bin %> <%= command.id %> --json | jq -r \'select(.type=="message") | .text\'' },
    { description: 'Go on after the last event a script saw (its seq), across daemon restarts', command: '<%= config.bin %> <%= command.id %> --json --since 1234' },
  ];
  static override flags = {
    lines: Flags.integer({ char: 'n', description: 'How many past events to print first.', default: 10, min: 0 }),
    after: Flags.integer({
      aliases: ['since'],
      description: 'Print every event after this seq (as --json shows it) first, instead of the last N (also --since).',
      min: 0,
    }),
    follow: Flags.boolean({ description: 'Keep printing new events (--no-follow prints the past ones and exits).', default: true, allowNo: true }),
    json: Flags.boolean({ description: 'One JSON object per event and line (NDJSON).', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Tail);
    const paths = this.profilePaths(flags.profile);
    const client = await this.connectDaemon(paths);
    const print = (event: ChatEvent) => printEvent(event, flags.json);
    // The reader of our output has gone (`| head` exited: EPIPE, which oclif swallows): nothing
    // more is read from the history for it.
    let readerGone = false;
    const gone = new Promise<void>((resolve) => process.stdout.on('error', () => { readerGone = true; resolve(); }));
    if (!flags.follow) {
      await printPastEvents(client, flags.after === undefined ? { latest: flags.lines } : { after: flags.after }, flags.json, () => readerGone);
      return this.endIfReaderGone(readerGone);
    }
    const stop = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      void gone.then(resolve);
    });
    const end = await followResuming({
      client,
      start: flags.after === undefined ? { latest: flags.lines } : { after: flags.after },
      deliver: print,
      connect: () => this.connectDaemon(paths),
      resumed: (seq) => writeHuman('stderr', human`chat: the daemon closed the connection (this tail fell behind); reconnected, going on after event ${seq}`),
      stop,
    });
    if (end.reason === 'cannotResume') {
      throw new CliError(
        'daemon_gone',
        `the daemon closed the connection ${MAX_RESUME_ATTEMPTS} times in a row before a new event came; ` +
          `the last event printed was ${end.lastSeq}: go on with chat tail --after ${end.lastSeq}`,
      );
    }
    return this.endIfReaderGone(readerGone);
  }

  /**
   * With its reader gone, tail ends here, exit 0: oclif's flush after run() waits for a `drain`
   * that a closed stdout never emits, and Node would end the process with exit code 13 and a
   * warning about an unsettled await.
   */
  private endIfReaderGone(readerGone: boolean): void {
    if (readerGone) this.exit(0);
  }
}
