import { Args, Flags } from '@oclif/core';
import path from 'node:path';
import type { TransferParams, TransferResult, UnfinishedTransferResult } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { ExitCode } from '../cli/errors.ts';
import { formatBytes, human } from '../cli/output.ts';
import { TransferProgressBar } from '../cli/progress.ts';
import { parseTimeoutSeconds, TIMEOUT_PROBLEM } from '../cli/send-request.ts';
import { writeHuman } from '../cli/terminal.ts';
import { unfinishedTransferLine } from '../cli/transfer-outcome.ts';

/** The exit code after Ctrl-C (128 + SIGINT): the command stopped waiting; the transfer goes on in the daemon. */
const INTERRUPTED_EXIT_CODE = 130;

export default class Transfer extends BaseCommand {
  static override summary = 'Send a file to your peer.';
  static override description =
    'Streams the file to the peer, which stores it in its downloads directory under the file\'s name ' +
    '(numbered if the name is taken). Exits 0 once the peer holds the whole file and its SHA-256 matches. ' +
    'The daemon records the transfer first: a dropped link or a restart interrupts it, and it continues where it stopped. ' +
    'Exits 4 when the transfer is not complete but goes on in the daemon: with --no-wait, after --timeout, after "chat disconnect" under it, or when the ' +
    'peer has no room for it (it resumes by itself once there is room); do not send it again ("chat transfers" shows it). ' +
    'Ctrl-C stops waiting and leaves the transfer to the daemon (exit 130). ' +
    'Shows a progress bar when standard error is a terminal.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./holiday.jpg',
    { description: 'Machine-readable result', command: '<%= config.bin %> <%= command.id %> report.pdf --json' },
    { description: 'Hand it to the daemon and go on (exit 4 until it is complete)', command: '<%= config.bin %> <%= command.id %> --no-wait big.iso' },
  ];
  static override enableJsonFlag = true;
  static override args = {
    file: Args.string({ description: 'the file to send', required: true }),
  };
  static override flags = {
    timeout: Flags.custom<number>({
      description: 'Seconds to wait for the transfer to complete before exiting 4 (it goes on in the daemon) [default: no limit].',
      helpValue: 'SECONDS',
      parse: async (input) => {
        const ms = parseTimeoutSeconds(input);
        if (ms === undefined) throw new Error(`invalid value "${input}": ${TIMEOUT_PROBLEM}`);
        return ms;
      },
    })(),
    wait: Flags.boolean({
      description: 'Wait for the transfer to complete (--no-wait: exit 4 once the daemon has recorded it, 0 if it was complete already; the same as --timeout 0).',
      default: true,
      allowNo: true,
    }),
  };

  async run(): Promise<TransferResult | UnfinishedTransferResult> {
    const { args, flags } = await this.parse(Transfer);
    const filePath = path.resolve(args.file);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const showProgress = Boolean(process.stderr.isTTY) && !this.jsonEnabled();
    const bar = showProgress ? new TransferProgressBar(human`${path.basename(filePath)}`) : undefined;
    if (bar) client.onNotification('transfer.progress', ({ bytes, size, waiting }) => bar.update(bytes, size, waiting));
    const params: TransferParams = { path: filePath, progress: showProgress };
    const waitMs = flags.wait ? flags.timeout : 0;
    if (waitMs !== undefined) params.waitMs = waitMs;
    // Ctrl-C ends the wait, not the transfer: the daemon has it recorded and goes on.
    const interrupted = () => {
      bar?.stop();
      writeHuman('stderr', human`chat: stopped waiting: the daemon goes on with the transfer of ${path.basename(filePath)} (see chat transfers; chat transfers cancel ID gives it up)`);
      process.exit(INTERRUPTED_EXIT_CODE);
    };
    process.once('SIGINT', interrupted);
    let result: TransferResult | UnfinishedTransferResult;
    try {
      // No answer timeout: a big file takes as long as it takes; a lost daemon ends the call.
      result = await client.request('transfer', params, 0);
    } finally {
      process.off('SIGINT', interrupted);
      bar?.stop();
    }
    if (result.state === 'unfinished') {
      if (this.jsonEnabled()) this.sayJson(result);
      else this.say(unfinishedTransferLine(result));
      this.exit(ExitCode.queued);
    }
    this.say(human`sent ${result.name} (${formatBytes(result.size)}, ${result.size} bytes) to ${result.to}`);
    this.say(human`sha256 ${result.sha256}`);
    return result;
  }
}
