/**
 * Messages on one connection: each one sent waits for its acknowledgement, and each one received
 * is acknowledged once the owner has recorded it.
 */
import { randomUUID } from 'node:crypto';
import { ProtocolError } from '../wire/errors.ts';
import type { Frame, MessageAckFrame, MessageFrame } from '../wire/frames.ts';
import { MAX_MESSAGE_BYTES } from '../wire/limits.ts';
import { PeerError, type ByeCode } from './session-end.ts';

export interface SentMessage { id: string; time: string }

/** What the exchange needs of its connection. */
export interface MessageLink {
  send(frame: Frame): void;
  /** Throws the connection's PeerError once it has ended. */
  assertOpen(): void;
  close(kind: ByeCode, detail: string): void;
}

export class MessageExchange {
  private readonly link: MessageLink;
  /** Called for each message; the acknowledgement is sent once this has returned (or resolved). */
  private readonly onMessage: (message: MessageFrame) => void | Promise<void>;
  private readonly pendingAcks = new Map<string, { resolve(): void; reject(error: Error): void }>();

  constructor(link: MessageLink, onMessage: (message: MessageFrame) => void | Promise<void>) {
    this.link = link;
    this.onMessage = onMessage;
  }

  /** Sends one message (a resent one keeps its `id` and `time`); resolves once the peer's daemon has acknowledged it. */
  async send(text: string, given: Partial<SentMessage> = {}): Promise<SentMessage> {
    this.link.assertOpen();
    // The peer would treat both as protocol violations and drop the connection.
    if (text.length === 0) throw new PeerError('message is empty');
    if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) throw new PeerError(`message exceeds ${MAX_MESSAGE_BYTES} bytes`);
    const id = given.id ?? randomUUID();
    const time = given.time ?? new Date().toISOString();
    // Its ACK could not tell the two apart.
    if (this.pendingAcks.has(id)) throw new PeerError(`message ${id} is already on its way`);
    const acked = new Promise<void>((resolve, reject) => this.pendingAcks.set(id, { resolve, reject }));
    this.link.send({ kind: 'message', id, time, text });
    await acked;
    return { id, time };
  }

  /** A message for the owner, or the acknowledgement of one of ours (ProtocolError if we sent no such message). */
  receive(frame: MessageFrame | MessageAckFrame): void {
    if (frame.kind === 'messageAck') {
      const pending = this.pendingAcks.get(frame.id);
      if (!pending) throw new ProtocolError(`acknowledgement for unknown message ${frame.id}`);
      this.pendingAcks.delete(frame.id);
      pending.resolve();
      return;
    }
    Promise.resolve()
      .then(() => this.onMessage(frame))
      .then(
        () => this.link.send({ kind: 'messageAck', id: frame.id }),
        (error: unknown) => this.link.close('internal', `could not record message: ${String(error)}`),
      );
  }

  /** The connection ended: every message still waiting for its acknowledgement fails with `error`. */
  fail(error: Error): void {
    for (const pending of this.pendingAcks.values()) pending.reject(error);
    this.pendingAcks.clear();
  }
}
