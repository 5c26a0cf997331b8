/** The progress line of `chat transfer` on a terminal. */
import cliProgress from 'cli-progress';
import { formatBytes, printable, type HumanText } from './output.ts';

/** A transfer progress bar on stderr; only created when stderr is a terminal. */
export class TransferProgressBar {
  private readonly bar: cliProgress.SingleBar;
  private started = false;
  private startTime = 0;

  constructor(label: HumanText) {
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label.text} [{bar}] {percentage}% | {done} of {total_h} | {speed} | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  /** `waiting` (the daemon's `waiting for NAME… (reconnecting)`) is shown instead of the speed. */
  update(bytes: number, size: number, waiting?: string): void {
    const elapsedSeconds = this.started ? (Date.now() - this.startTime) / 1000 : 0;
    const rate = elapsedSeconds > 0 ? `${formatBytes(bytes / elapsedSeconds)}/s` : '';
    const speed = waiting ? printable(waiting) : rate;
    const payload = { done: formatBytes(bytes), total_h: formatBytes(size), speed };
    if (!this.started) {
      this.started = true;
      this.startTime = Date.now();
      this.bar.start(Math.max(size, 1), bytes, payload);
    } else {
      this.bar.update(bytes, payload);
    }
  }

  stop(): void {
    if (this.started) this.bar.stop();
  }
}
