import { Args } from '@oclif/core';
import path from 'node:path';
import type { TransferResult } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { formatBytes, human } from '../cli/output.ts';
import { TransferProgressBar } from '../cli/progress.ts';

export default class Transfer extends BaseCommand {
  static override summary = 'Send a file to your peer.';
  static override description =
    'Streams the file to the peer, which stores it in its downloads directory under the file\'s name ' +
    '(numbered if the name is taken). Exits 0 once the peer holds the whole file and its SHA-256 matches. ' +
    'Shows a progress bar when standard error is a terminal.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./holiday.jpg',
    { description: 'Machine-readable result', command: '<%= config.bin %> <%= command.id %> report.pdf --json' },
  ];
  static override enableJsonFlag = true;
  static override args = {
    file: Args.string({ description: 'the file to send', required: true }),
  };

  async run(): Promise<TransferResult> {
    const { args, flags } = await this.parse(Transfer);
    const filePath = path.resolve(args.file);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const showProgress = Boolean(process.stderr.isTTY) && !this.jsonEnabled();
    const bar = showProgress ? new TransferProgressBar(human`${path.basename(filePath)}`) : undefined;
    if (bar) client.onNotification('transfer.progress', ({ bytes, size, waiting }) => bar.update(bytes, size, waiting));
    let result: TransferResult;
    try {
      // No overall timeout: a big file takes as long as it takes; a lost peer or daemon ends the call.
      result = await client.request('transfer', { path: filePath, progress: showProgress }, 0);
    } finally {
      bar?.stop();
    }
    this.say(human`sent ${result.name} (${formatBytes(result.size)}, ${result.size} bytes) to ${result.to}`);
    this.say(human`sha256 ${result.sha256}`);
    return result;
  }
}
