/**
 * One end of an in-memory wire (node:stream duplexPair) with the other end decoded into frames,
 * for testing a part of a peer session without sockets: what the part writes arrives as frames,
 * and a test waits for them by event, not by polling.
 */
import { duplexPair, type Duplex } from 'node:stream';
import { FrameDecoder } from '../../src/wire/decoder.ts';
import { encodeFrame, type Frame } from '../../src/wire/frames.ts';
import type { FrameOf } from './frame-peer.ts';

export class FrameWire {
  /** The end a part under test writes to (its socket). */
  readonly near: Duplex;
  /** Every frame that arrived at the far end, in order. */
  readonly frames: Frame[] = [];
  private readonly far: Duplex;
  private readonly decoder = new FrameDecoder();
  private readonly waiters = new Set<() => void>();

  constructor() {
    [this.near, this.far] = duplexPair();
    this.far.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.frames.push(frame);
      for (const waiter of this.waiters) waiter();
    });
  }

  /** Writes one frame on the near end, as a session's send() does. */
  send(frame: Frame): void {
    this.near.write(encodeFrame(frame));
  }

  /** The first frame of `kind` (matching `match`) that has arrived or arrives within `ms`. */
  waitFor<K extends Frame['kind']>(kind: K, match: (frame: FrameOf<K>) => boolean = () => true, ms = 5_000): Promise<FrameOf<K>> {
    const find = () => this.frames.find((frame): frame is FrameOf<K> => frame.kind === kind && match(frame as FrameOf<K>));
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const frame = find();
        if (!frame) return;
        done();
        resolve(frame);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${kind} frame within ${ms} ms; got ${this.frames.map((f) => f.kind).join(', ') || 'nothing'}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** The far end stops reading: what the near end writes is not flushed (its write callbacks wait). */
  pause(): void {
    this.far.pause();
  }

  destroy(): void {
    this.near.destroy();
    this.far.destroy();
  }
}
