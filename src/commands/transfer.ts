import { Args } from '@oclif/core';
import type { TransferResult, UnfinishedTransferResult } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { ExitCode } from '../cli/errors.ts';
import { runTransfer } from '../cli/transfer-request.ts';
import { timeoutFlag, waitFlag } from '../cli/wait-flags.ts';

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
    timeout: timeoutFlag('Seconds to wait for the transfer to complete before exiting 4 (it goes on in the daemon) [default: no limit].'),
    wait: waitFlag('Wait for the transfer to complete (--no-wait: exit 4 once the daemon has recorded it, 0 if it was complete already; the same as --timeout 0).'),
  };

  async run(): Promise<TransferResult | UnfinishedTransferResult> {
    const { args, flags } = await this.parse(Transfer);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const { exitCode, result } = await runTransfer(client, args.file, { waitMs: flags.wait ? flags.timeout : 0, json: this.jsonEnabled() });
    if (exitCode !== ExitCode.ok) this.exit(exitCode);
    return result;
  }
}
