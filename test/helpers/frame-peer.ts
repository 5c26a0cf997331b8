/**
 * A hand-driven peer for tests: writes whatever frames or bytes a test wants on any connected
 * socket (a plain one against an in-process session, TLS against a real daemon) and decodes what
 * comes back.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { FrameDecoder } from '../../src/wire/decoder.ts';
import { encodeFrame, type Frame, type HelloFrame } from '../../src/wire/frames.ts';
import { FRAME_HEADER_BYTES, MIN_PROTOCOL_VERSION, PROTOCOL_NAME, PROTOCOL_VERSION } from '../../src/wire/limits.ts';

const WAIT_MS = 15_000;
const POLL_MS = 5;

export type FrameOf<K extends Frame['kind']> = Extract<Frame, { kind: K }>;

/** A frame with the given type byte and payload, not validated: what only a broken or hostile peer sends. */
export function rawFrame(code: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32BE(1 + body.length, 0);
  header.writeUInt8(code, 4);
  return Buffer.concat([header, body]);
}

export class FramePeer {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  readonly instance = randomUUID();
  readonly closed: Promise<void>;
  /** Like a real dialler, confirm the listener's HELLO with PING 0; off to send the confirmation by hand. */
  autoConfirm = true;
  private readonly decoder = new FrameDecoder();

  constructor(socket: Socket) {
    this.socket = socket;
    // What the other side sends is trusted here; a decode failure would show up as a missing frame.
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) {
        this.frames.push(frame);
        if (frame.kind === 'hello' && this.autoConfirm) this.send({ kind: 'ping', nonce: 0 });
      }
    });
    socket.on('error', () => undefined);
    // Not once(socket, 'close'): that rejects on 'error', and a peer that is dropped while it
    // writes sees ECONNRESET; closed is closed either way.
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send(frame: Frame): void {
    this.write(encodeFrame(frame));
  }

  hello(overrides: Partial<HelloFrame> = {}): void {
    this.send({
      kind: 'hello',
      protocol: PROTOCOL_NAME,
      version: PROTOCOL_VERSION,
      minVersion: MIN_PROTOCOL_VERSION,
      name: 'mallory',
      instance: this.instance,
      listenPort: 0,
      ...overrides,
    });
  }

  /** Waits (bounded) for a frame of `kind` that matches `match`. */
  async waitFor<K extends Frame['kind']>(kind: K, match: (frame: FrameOf<K>) => boolean = () => true, ms = WAIT_MS): Promise<FrameOf<K>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.frames.find((frame): frame is FrameOf<K> => frame.kind === kind && match(frame as FrameOf<K>));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${kind} frame within ${ms} ms; got ${this.frames.map((f) => f.kind).join(', ') || 'nothing'}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Resolves once the other side has closed the connection; rejects if it does not within the bound. */
  async waitClosed(ms = WAIT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.closed,
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('the connection was not closed')), ms); }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
