/**
 * Turns what is read from a peer into frames and hands them to the session one at a time and in
 * order, holding the rest back (the socket paused) while the peer is over its budget: frames over
 * it are read later, never dropped.
 */
import { FrameDecoder, type HandshakeFrames } from '../wire/decoder.ts';
import type { Frame } from '../wire/frames.ts';
import {
  FRAME_BURST,
  FRAMES_PER_SECOND,
  MAX_FRAME_BYTES,
  MESSAGE_BURST,
  MESSAGE_BYTE_BURST,
  MESSAGE_BYTES_PER_SECOND,
  MESSAGES_PER_SECOND,
  SMALL_CHUNK_BYTES,
} from '../wire/limits.ts';
import { TokenBucket, type Rate } from './token-bucket.ts';

export interface FrameRates {
  /** MESSAGE frames. */
  messages: Rate;
  /** UTF-8 bytes of MESSAGE text: many large messages are paced by this one before their count's. */
  messageBytes: Rate;
  /**
   * Every other frame, and each FILE_CHUNK shorter than SMALL_CHUNK_BYTES. A full chunk's pace is
   * the receiver's credit (TRANSFER_WINDOW_BYTES), but credit counts bytes: only this budget
   * bounds how many tiny chunks a peer makes us handle.
   */
  frames: Rate;
}

/** The budgets of `rates`, the protocol's limits for the rest (docs/peer-protocol.md, *Pacing*). */
export function frameRates(rates: Partial<FrameRates> = {}): FrameRates {
  return {
    messages: rates.messages ?? { perSecond: MESSAGES_PER_SECOND, burst: MESSAGE_BURST },
    messageBytes: rates.messageBytes ?? { perSecond: MESSAGE_BYTES_PER_SECOND, burst: MESSAGE_BYTE_BURST },
    frames: rates.frames ?? { perSecond: FRAMES_PER_SECOND, burst: FRAME_BURST },
  };
}

export interface FrameInboxOptions {
  rates: FrameRates;
  /** The first frames and their smaller limit (see handshakeFrames). */
  handshake: HandshakeFrames;
  /** Handles one frame; throws for a frame that breaks the protocol. */
  deliver(frame: Frame): void;
  /** Bytes or a frame broke the protocol (or handling it failed): the connection is to end. */
  violation(error: unknown): void;
  /** False once the connection is gone: nothing more is handled. */
  isOpen(): boolean;
  /** Stop reading the socket: what is held back is then at most the frames of one read. */
  hold(): void;
  release(): void;
}

export class FrameInbox {
  private readonly options: FrameInboxOptions;
  private readonly messages: TokenBucket;
  private readonly messageBytes: TokenBucket;
  private readonly frames: TokenBucket;
  private readonly decoder: FrameDecoder;
  private queue: Frame[] = [];
  private next = 0;
  private waiting: NodeJS.Timeout | undefined;

  constructor(options: FrameInboxOptions) {
    this.options = options;
    this.messages = new TokenBucket(options.rates.messages);
    this.messageBytes = new TokenBucket(options.rates.messageBytes);
    this.frames = new TokenBucket(options.rates.frames);
    this.decoder = new FrameDecoder(MAX_FRAME_BYTES, options.handshake);
  }

  /** One read from the socket: bytes that break the framing are a violation, and none of their frames is handled. */
  push(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.options.violation(error);
      return;
    }
    if (this.next >= this.queue.length) {
      this.queue = frames;
      this.next = 0;
    } else {
      for (const frame of frames) this.queue.push(frame);
    }
    if (!this.waiting) this.drain();
  }

  /** Forgets what is held back (the connection ended). */
  close(): void {
    clearTimeout(this.waiting);
    this.waiting = undefined;
    this.queue = [];
    this.next = 0;
  }

  private drain(): void {
    while (this.next < this.queue.length) {
      const frame = this.queue[this.next]!;
      const waitMs = this.take(frame);
      if (waitMs > 0) {
        this.options.hold();
        this.waiting = setTimeout(() => {
          this.waiting = undefined;
          this.drain();
          if (!this.waiting) this.options.release();
        }, waitMs);
        return;
      }
      this.next++;
      if (!this.deliver(frame)) {
        this.close();
        return;
      }
    }
    this.queue = [];
    this.next = 0;
  }

  /** Handles one frame; false once the connection is gone. */
  private deliver(frame: Frame): boolean {
    if (!this.options.isOpen()) return false;
    try {
      this.options.deliver(frame);
    } catch (error) {
      this.options.violation(error);
    }
    return this.options.isOpen();
  }

  /** Takes what `frame` costs from its budgets and returns 0, or takes nothing and returns how long until it can. */
  private take(frame: Frame): number {
    if (frame.kind === 'fileChunk') return frame.data.length >= SMALL_CHUNK_BYTES ? 0 : this.frames.take();
    if (frame.kind !== 'message') return this.frames.take();
    const bytes = Buffer.byteLength(frame.text);
    const waitMs = Math.max(this.messages.wait(), this.messageBytes.wait(bytes));
    if (waitMs > 0) return waitMs;
    this.messages.take();
    this.messageBytes.take(bytes);
    return 0;
  }
}
