/**
 * Bounds what we queue for one peer: counts every frame (file data aside) until the kernel takes
 * it, stops reading a peer whose answers pile up unread, and drops a peer past the hard bound or
 * that leaves its answers unread for too long.
 */
import type { Socket } from 'node:net';
import type { Frame } from '../wire/frames.ts';
import { MAX_QUEUED_OUTPUT_BYTES, OUTPUT_HIGH_WATER_BYTES } from '../wire/limits.ts';
import type { ReadPauses } from './read-pauses.ts';

/** Frames the peer makes us send, one (or a few) per frame of its own: the ones a flood multiplies. */
const ANSWERS: ReadonlySet<Frame['kind']> = new Set(['pong', 'messageAck', 'fileAccept', 'fileDecline', 'fileResult', 'fileCredit']);

/** The start of every reason this module drops a peer for (documented in docs/peer-protocol.md). */
export const NOT_READING = 'peer does not read';

export interface OutputBudgetOptions {
  socket: Pick<Socket, 'write'>;
  pauses: ReadPauses;
  /** How long the peer may leave its answers above the high-water mark without taking any of our bytes. */
  stallLimitMs: number;
  drop(reason: string): void;
}

export class OutputBudget {
  private readonly options: OutputBudgetOptions;
  /** Bytes of every frame written and not yet taken by the kernel, file data aside. */
  private queuedBytes = 0;
  /** The part of queuedBytes that answers the peer's own frames. */
  private answerBytes = 0;
  private lastTakenAt = Date.now();
  private stallTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: OutputBudgetOptions) {
    this.options = options;
  }

  get queued(): number {
    return this.queuedBytes;
  }

  /** Writes one encoded frame (never file data); returns what socket.write returns. */
  write(bytes: Buffer, kind: Frame['kind']): boolean {
    const answer = ANSWERS.has(kind);
    const size = bytes.length;
    this.queuedBytes += size;
    if (answer) this.answerBytes += size;
    const flushed = this.options.socket.write(bytes, () => this.taken(size, answer));
    if (this.queuedBytes > MAX_QUEUED_OUTPUT_BYTES) {
      this.drop(`${NOT_READING}: ${this.queuedBytes} bytes queued for it, over the ${MAX_QUEUED_OUTPUT_BYTES}-byte limit`);
    } else if (answer && this.answerBytes > OUTPUT_HIGH_WATER_BYTES && !this.options.pauses.has('output')) {
      this.options.pauses.add('output');
      this.watchStall();
    }
    return flushed;
  }

  /** The kernel took some of our file data: the peer still reads. */
  noteTaken(): void {
    this.lastTakenAt = Date.now();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.stallTimer);
  }

  /** Runs when the socket has handed a frame to the kernel, or failed (then the session is ending). */
  private taken(size: number, answer: boolean): void {
    this.queuedBytes -= size;
    if (answer) this.answerBytes -= size;
    this.lastTakenAt = Date.now();
    if (this.options.pauses.has('output') && this.answerBytes <= OUTPUT_HIGH_WATER_BYTES / 2 && !this.closed) {
      clearTimeout(this.stallTimer);
      this.options.pauses.delete('output');
    }
  }

  private watchStall(): void {
    const check = () => {
      if (this.closed || !this.options.pauses.has('output')) return;
      const idleMs = Date.now() - this.lastTakenAt;
      if (idleMs >= this.options.stallLimitMs) {
        this.drop(`${NOT_READING}: ${this.answerBytes} bytes of answers unread, none of our output taken for ${Math.round(idleMs / 1000)} s`);
        return;
      }
      this.stallTimer = setTimeout(check, this.options.stallLimitMs - idleMs).unref();
    };
    check();
  }

  private drop(reason: string): void {
    if (this.closed) return;
    this.close();
    this.options.drop(reason);
  }
}
