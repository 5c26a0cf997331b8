import { ProtocolError } from './errors.ts';
import { parseFrame, type Frame } from './frames.ts';
import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES } from './limits.ts';

/** The frames a peer sends before the handshake is complete, and the smaller limit they have. */
export interface HandshakeFrames {
  /** How many: the HELLO, and on the listener also the dialler's confirmation. */
  count: number;
  maxFrameBytes: number;
}

/**
 * Splits a byte stream into frames. Feed it whatever chunks the socket delivers; it returns the
 * complete frames they finish. The length prefix is checked against the limit before any body is
 * buffered, so memory per connection stays below one maximum frame; below one handshake frame
 * (`handshake`) while the first frames of the connection are still to come.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number;
  private readonly handshake: HandshakeFrames | undefined;
  private framesDecoded = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(maxFrameBytes = MAX_FRAME_BYTES, handshake?: HandshakeFrames) {
    this.maxFrameBytes = maxFrameBytes;
    this.handshake = handshake;
  }

  /** The largest body the next frame may have. */
  get frameLimit(): number {
    return this.inHandshake ? this.handshake!.maxFrameBytes : this.maxFrameBytes;
  }

  private get inHandshake(): boolean {
    return this.handshake !== undefined && this.framesDecoded < this.handshake.count;
  }

  /** Bytes received but not yet part of a complete frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): Frame[] {
    if (chunk.length === 0) return [];
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Frame[] = [];
    while (this.pendingBytes >= FRAME_HEADER_BYTES) {
      const head = this.peek(FRAME_HEADER_BYTES);
      const bodyLength = head.readUInt32BE(0);
      if (bodyLength < 1) throw new ProtocolError('frame with an empty body');
      const limit = this.frameLimit;
      if (bodyLength > limit) {
        throw new ProtocolError(this.inHandshake
          ? `frame of ${bodyLength} bytes before the handshake is complete exceeds the ${limit}-byte limit for a handshake frame`
          : `frame of ${bodyLength} bytes exceeds the ${limit}-byte limit`);
      }
      if (this.pendingBytes < 4 + bodyLength) break;
      const frame = this.take(4 + bodyLength);
      this.framesDecoded++;
      frames.push(parseFrame(frame.readUInt8(4), frame.subarray(FRAME_HEADER_BYTES)));
    }
    return frames;
  }

  /** Returns the first n buffered bytes without consuming them (copies only across chunk edges). */
  private peek(n: number): Buffer {
    const first = this.pending[0]!;
    if (first.length >= n) return first;
    return Buffer.concat(this.pending, n);
  }

  private take(n: number): Buffer {
    const first = this.pending[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const head = this.pending[0]!;
        const wanted = n - filled;
        if (head.length <= wanted) {
          head.copy(out, filled);
          filled += head.length;
          this.pending.shift();
        } else {
          head.copy(out, filled, 0, wanted);
          this.pending[0] = head.subarray(wanted);
          filled += wanted;
        }
      }
    }
    this.pendingBytes -= n;
    return out;
  }
}
