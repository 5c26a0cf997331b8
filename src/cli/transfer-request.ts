/**
 * What `chat transfer` does once its flags are read, shared by the oclif command and the fast path
 * so that both behave the same: the request with its progress bar and Ctrl-C, and what it prints.
 */
import path from 'node:path';
import type { ControlClient } from '../control/client.ts';
import type { TransferParams, TransferResult, UnfinishedTransferResult } from '../control/protocol.ts';
import { ExitCode } from './errors.ts';
import { formatBytes, human } from './output.ts';
import { writeHuman, writeJson } from './terminal.ts';
import { unfinishedTransferLine } from './transfer-outcome.ts';

/** The exit code after Ctrl-C (128 + SIGINT): the command stopped waiting; the transfer goes on in the daemon. */
export const INTERRUPTED_EXIT_CODE = 130;

/**
 * Sends `file` and prints the outcome, except a complete one's JSON: that is the caller's, as
 * oclif prints what run() returns. `waitMs` undefined waits until the transfer is complete; 0
 * returns once the daemon recorded it.
 */
export async function runTransfer(
  client: ControlClient,
  file: string,
  options: { waitMs: number | undefined; json: boolean },
): Promise<{ exitCode: number; result: TransferResult | UnfinishedTransferResult }> {
  const filePath = path.resolve(file);
  const showProgress = Boolean(process.stderr.isTTY) && !options.json;
  // cli-progress is loaded only for a terminal: scripts do not pay for it.
  const bar = showProgress ? new (await import('./progress.ts')).TransferProgressBar(human`${path.basename(filePath)}`) : undefined;
  if (bar) client.onNotification('transfer.progress', ({ bytes, size, waiting }) => bar.update(bytes, size, waiting));
  const params: TransferParams = { path: filePath, progress: showProgress };
  if (options.waitMs !== undefined) params.waitMs = options.waitMs;
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
    if (options.json) writeJson(result);
    else writeHuman('stdout', unfinishedTransferLine(result));
    return { exitCode: ExitCode.queued, result };
  }
  if (!options.json) {
    writeHuman('stdout', human`sent ${result.name} (${formatBytes(result.size)}, ${result.size} bytes) to ${result.to}`);
    writeHuman('stdout', human`sha256 ${result.sha256}`);
  }
  return { exitCode: ExitCode.ok, result };
}
