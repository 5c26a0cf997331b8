/**
 * One connection to one peer: reads, decodes and paces its frames, hands each to the part whose
 * job it is (Handshake, Keepalive, TransferSender, IncomingTransfers), sends and acknowledges
 * messages, and ends the connection, never the daemon, on any protocol violation.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { FrameDecoder } from '../wire/decoder.ts';
import { ProtocolError } from '../wire/errors.ts';
import { clipText, encodeFrame, type Frame, type MessageFrame } from '../wire/frames.ts';
import { MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, MAX_REASON_BYTES } from '../wire/limits.ts';
import { FrameInbox, frameRates } from './frame-inbox.ts';
import { Handshake, handshakeFrames, type PeerInfo } from './handshake.ts';
import { IncomingTransfers } from './incoming-transfers.ts';
import { DEFAULT_KEEPALIVE, Keepalive } from './keepalive.ts';
import { quote } from './log-text.ts';
import { OutputBudget } from './output-budget.ts';
import { ReadPauses } from './read-pauses.ts';
import { PeerError, type ByeCode } from './session-end.ts';
import type { SentMessage, SessionHandlers, SessionOptions } from './session-options.ts';
import { TransferSender, type SentFile } from './transfer-sender.ts';

export type { LocalIdentity, PeerInfo, Refusal } from './handshake.ts';
export type { KeepaliveOptions } from './keepalive.ts';
export type { SentFile } from './transfer-sender.ts';
export type { SentMessage, SessionHandlers, SessionOptions } from './session-options.ts';
export { PeerError } from './session-end.ts';

/** How long a closing session waits for its BYE to be flushed before it drops the socket. */
const BYE_LINGER_MS = 2000;

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

export class PeerSession {
  readonly direction: 'in' | 'out';
  readonly ready: Promise<PeerInfo>;
  private readonly socket: Socket;
  private readonly handlers: SessionHandlers;
  private readonly peerFingerprint: () => string | undefined;
  private readonly remoteAddress: string;
  private readonly decoder: FrameDecoder;
  private readonly reading: ReadPauses;
  private readonly output: OutputBudget;
  private readonly inbox: FrameInbox;
  private readonly handshake: Handshake;
  private readonly keepalive: Keepalive;
  private readonly sender: TransferSender;
  private readonly incoming: IncomingTransfers;
  private readonly pendingAcks = new Map<string, Pending>();
  private closedReason: string | undefined;

  constructor(options: SessionOptions) {
    this.socket = options.socket;
    this.direction = options.direction;
    this.handlers = options.handlers;
    this.peerFingerprint = options.peerFingerprint;
    this.remoteAddress = options.address ?? formatAddress(this.socket.remoteAddress, this.socket.remotePort);
    const keepalive = options.keepalive ?? DEFAULT_KEEPALIVE;
    this.decoder = new FrameDecoder(MAX_FRAME_BYTES, handshakeFrames(this.direction));
    this.reading = new ReadPauses(this.socket);
    // A peer that leaves its answers unread as long as a dead one stays silent is dropped like one.
    this.output = new OutputBudget({
      socket: this.socket, pauses: this.reading, stallLimitMs: keepalive.silenceLimitMs, drop: (reason) => this.close(reason),
    });
    this.inbox = new FrameInbox({
      rates: frameRates(options.rates),
      deliver: (frame) => this.dispatchSafely(frame),
      hold: () => this.reading.add('throttle'),
      release: () => this.reading.delete('throttle'),
    });
    // What the parts may do with this connection; each takes the part of it that its job needs.
    const link = {
      send: (frame: Frame) => { this.send(frame); },
      close: (_kind: ByeCode, detail: string) => this.close(detail),
      isClosed: () => this.isClosed,
      assertOpen: () => this.assertOpen(),
      paused: () => this.reading.paused,
      reading: this.reading,
      socket: this.socket,
      dataTaken: () => {
        this.keepalive.signOfLife();
        this.output.noteTaken();
      },
    };
    this.keepalive = new Keepalive(keepalive, link);
    this.sender = new TransferSender(link);
    this.incoming = new IncomingTransfers(link, this.handlers);
    this.handshake = new Handshake({
      direction: this.direction,
      address: this.remoteAddress,
      local: options.local,
      peerFingerprint: options.peerFingerprint,
      ...(options.handshakeTimeoutMs === undefined ? {} : { timeoutMs: options.handshakeTimeoutMs }),
      link,
      admit: (peer) => this.handlers.admit?.(peer),
      onComplete: (peer) => {
        this.keepalive.start();
        this.handlers.onEstablished?.(peer);
      },
    });
    this.ready = this.handshake.ready;
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error) => this.finish(`socket error: ${error.message}`));
    this.socket.on('close', () => this.finish(this.peer ? 'connection closed by peer' : 'connection closed during handshake'));
    this.socket.on('end', () => this.socket.end());
    this.handshake.start();
  }

  get peer(): PeerInfo | undefined {
    return this.handshake.peer;
  }

  /** The name and key the other side claimed in its HELLO, even if the handshake did not finish. */
  get claimedPeer(): PeerInfo | undefined {
    return this.handshake.claimedPeer;
  }

  get address(): string {
    return this.remoteAddress;
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Why the session ended; undefined while it is open. */
  get closeReason(): string | undefined {
    return this.closedReason;
  }

  /** Sends one message; resolves once the peer's daemon has acknowledged it. */
  async sendMessage(text: string): Promise<SentMessage> {
    this.assertOpen();
    // The peer would treat both as protocol violations and drop the connection.
    if (text.length === 0) throw new PeerError('message is empty');
    if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) throw new PeerError(`message exceeds ${MAX_MESSAGE_BYTES} bytes`);
    const id = randomUUID();
    const time = new Date().toISOString();
    const acked = new Promise<void>((resolve, reject) => this.pendingAcks.set(id, { resolve, reject }));
    this.send({ kind: 'message', id, time, text });
    await acked;
    return { id, time };
  }

  /** Streams a file that the caller has already checked (see TransferSender.send). */
  sendFile(filePath: string, name: string, size: number, onProgress: (sentBytes: number, id: string) => void = () => undefined): Promise<SentFile> {
    return this.sender.send(filePath, name, size, onProgress);
  }

  /** Says goodbye (best effort) and closes the connection. */
  close(reason: string): void {
    if (this.isClosed) return;
    // Before the transport has authenticated the peer there is nobody to say goodbye to.
    if (!this.socket.destroyed && this.socket.writable && this.peerFingerprint() !== undefined) {
      this.socket.end(encodeFrame({ kind: 'bye', reason: clipText(reason, MAX_REASON_BYTES) }));
      // A peer that never reads must not keep the socket open.
      setTimeout(() => this.socket.destroy(), BYE_LINGER_MS).unref();
    } else {
      this.socket.destroy();
    }
    this.finish(reason);
  }

  private send(frame: Frame): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    return this.output.write(encodeFrame(frame), frame.kind);
  }

  private assertOpen(): void {
    if (this.isClosed) throw new PeerError(`peer connection closed: ${this.closedReason}`);
  }

  private receive(chunk: Buffer): void {
    if (this.isClosed) return;
    this.keepalive.signOfLife();
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.violation(error);
      return;
    }
    this.inbox.push(frames);
  }

  /** Handles one frame; false once the connection is gone. */
  private dispatchSafely(frame: Frame): boolean {
    if (this.isClosed) return false;
    try {
      this.dispatch(frame);
    } catch (error) {
      this.violation(error);
    }
    return !this.isClosed;
  }

  private violation(error: unknown): void {
    const reason = error instanceof ProtocolError ? `protocol error: ${error.message}` : `internal error: ${String(error)}`;
    // Nothing more it sends is used: leave it in the kernel (TCP stops the peer) rather than
    // decrypt and drop what a broken or hostile peer keeps sending until the BYE linger ends.
    this.socket.pause();
    this.close(reason);
  }

  private dispatch(frame: Frame): void {
    if (!this.peer) {
      if (frame.kind === 'bye') {
        // A refusal in place of the HELLO answer or of the dialler's confirmation: its reason is
        // what the other side reports.
        this.finish(`peer left: ${frame.reason || 'no reason given'}`);
        return;
      }
      if (this.handshake.receive(frame)) return;
    }
    switch (frame.kind) {
      case 'hello':
        throw new ProtocolError('second hello');
      case 'bye':
        this.handlers.log(`peer ${quote(this.peer?.name ?? '')} said goodbye: ${quote(frame.reason)}`);
        this.finish(`peer left: ${frame.reason || 'no reason given'}`);
        this.socket.end();
        return;
      case 'ping':
        this.send({ kind: 'pong', nonce: frame.nonce });
        return;
      case 'pong':
        return;
      case 'message':
        this.receiveMessage(frame);
        return;
      case 'messageAck': {
        const pending = this.pendingAcks.get(frame.id);
        if (!pending) throw new ProtocolError(`acknowledgement for unknown message ${frame.id}`);
        this.pendingAcks.delete(frame.id);
        pending.resolve();
        return;
      }
      case 'fileAccept':
      case 'fileDecline':
      case 'fileResult':
        this.sender.receive(frame);
        return;
      case 'fileOffer':
      case 'fileChunk':
      case 'fileEnd':
      case 'fileCancel':
        this.incoming.receive(frame);
        return;
    }
  }

  private receiveMessage(message: MessageFrame): void {
    Promise.resolve()
      .then(() => this.handlers.onMessage(message))
      .then(
        () => this.send({ kind: 'messageAck', id: message.id }),
        (error: unknown) => this.close(`could not record message: ${String(error)}`),
      );
  }

  /** Runs once: fails everything still waiting, drops partial files, tells the owner. */
  private finish(reason: string): void {
    if (this.isClosed) return;
    this.closedReason = reason;
    this.keepalive.stop();
    this.inbox.close();
    this.output.close();
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.destroy();
    const error = new PeerError(`peer connection closed: ${reason}`);
    this.handshake.fail(error);
    for (const pending of this.pendingAcks.values()) pending.reject(error);
    this.pendingAcks.clear();
    this.sender.fail(error);
    void this.incoming.abortAll();
    this.handlers.onClosed(reason);
  }
}

/** host:port, with IPv6 hosts in brackets, as logs and events show a connection's address. */
export function formatAddress(host: string | undefined, port: number | undefined): string {
  if (!host) return 'unknown';
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
