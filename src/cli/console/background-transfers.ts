/**
 * The console's file transfers, each on a control connection of its own so that typing goes on:
 * a progress line per transfer above the prompt, a line when it ends, and a wait for them on leaving.
 */
import path from 'node:path';
import type { ControlClient } from '../../control/client.ts';
import { formatBytes, human, type HumanText } from '../output.ts';
import { unfinishedTransferLine } from '../transfer-outcome.ts';
import type { ConsoleScreen } from './screen.ts';

/** Width of the progress bar, in characters. */
const BAR_WIDTH = 20;

export interface BackgroundTransfersOptions {
  /** A new connection to the daemon: one per transfer, so its progress notifications are its own. */
  connect(): Promise<ControlClient>;
  screen: ConsoleScreen;
  /** Progress lines (a terminal); without, only the start and the end are printed. */
  progress: boolean;
  /** A transfer failed (or could not start): `error` as the daemon or the connection gave it. */
  failed(error: unknown): void;
}

interface Running {
  name: string;
  done: Promise<void>;
  client?: ControlClient;
}

export class BackgroundTransfers {
  private readonly options: BackgroundTransfersOptions;
  private readonly running = new Set<Running>();
  private nextKey = 0;

  constructor(options: BackgroundTransfersOptions) {
    this.options = options;
  }

  /** Starts sending `filePath` (absolute); returns at once. */
  start(filePath: string): void {
    const { screen } = this.options;
    const key = `transfer ${this.nextKey++}`;
    const entry: Running = { name: path.basename(filePath), done: Promise.resolve() };
    screen.print(human`* sending ${filePath} ...`);
    entry.done = this.send(filePath, key, entry).finally(() => {
      screen.setStatus(key, undefined);
      entry.client?.close();
      this.running.delete(entry);
    });
    this.running.add(entry);
  }

  /** Names of the files still being sent. */
  get names(): string[] {
    return [...this.running].map((entry) => entry.name);
  }

  /** Resolves once every transfer has ended (true) or `stop` came first (false). */
  async settle(stop: Promise<void>): Promise<boolean> {
    const all = Promise.all([...this.running].map((entry) => entry.done)).then(() => true);
    return Promise.race([all, stop.then(() => false)]);
  }

  private async send(filePath: string, key: string, entry: Running): Promise<void> {
    const { screen, progress } = this.options;
    try {
      const client = await this.options.connect();
      entry.client = client;
      if (progress) {
        client.onNotification('transfer.progress', ({ bytes, size, waiting }) => {
          screen.setStatus(key, progressLine(entry.name, bytes, size, waiting));
        });
      }
      // No overall timeout, as for chat transfer: a lost peer or daemon ends the call.
      const result = await client.request('transfer', { path: filePath, progress }, 0);
      screen.setStatus(key, undefined);
      screen.print(result.state === 'complete'
        ? human`* sent ${result.name} (${formatBytes(result.size)}, sha256 ${result.sha256})`
        : human`* ${unfinishedTransferLine(result)}`);
    } catch (error) {
      screen.setStatus(key, undefined);
      this.options.failed(error);
    }
  }
}

/** `  big.bin [#####---------------] 25% 16 MiB of 64 MiB`, and the daemon's `waiting for bob… (reconnecting)` while the link is down. */
export function progressLine(name: string, bytes: number, size: number, waiting?: string): HumanText {
  const fraction = size > 0 ? Math.min(bytes / size, 1) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
  const line = human`  ${name} [${bar}] ${Math.floor(fraction * 100)}% ${formatBytes(bytes)} of ${formatBytes(size)}`;
  return waiting ? human`${line}, ${waiting}` : line;
}
