/**
 * One connection to one peer: reads, decodes and paces its frames, hands each to the part whose
 * job it is (Handshake, MessageExchange, TransferSender, IncomingTransfers; Keepalive watches), and
 * ends once, with a typed SessionEnd, never taking the daemon down on a protocol violation.
 */
import type { Socket } from 'node:net';
import { ProtocolError } from '../wire/errors.ts';
import { clipText } from '../text/clip.ts';
import { encodeFrame, type ByeFrame, type Frame } from '../wire/frames.ts';
import { MAX_REASON_BYTES } from '../wire/limits.ts';
import { formatAddress } from './address.ts';
import { FrameInbox, frameRates } from './frame-inbox.ts';
import { Handshake, handshakeFrames, type PeerInfo } from './handshake.ts';
import { IncomingTransfers } from './incoming-transfers.ts';
import { DEFAULT_KEEPALIVE, Keepalive } from './keepalive.ts';
import { quote } from './log-text.ts';
import { MessageExchange, type SentMessage } from './message-exchange.ts';
import { OutputBudget } from './output-budget.ts';
import { ReadPauses } from './read-pauses.ts';
import { describeEnd, PeerError, type ByeCode, type SessionEnd } from './session-end.ts';
import type { SessionHandlers, SessionOptions } from './session-options.ts';
import { TransferSender } from './transfer-sender.ts';
import type { ResumeOptions, SentFile } from './transfer-outcomes.ts';

export { formatAddress } from './address.ts';
export type { LocalIdentity, PeerInfo, Refusal } from './handshake.ts';
export type { KeepaliveOptions } from './keepalive.ts';
export type { SentMessage } from './message-exchange.ts';
export type { SessionHandlers, SessionOptions } from './session-options.ts';
export { WaitingForRoomError, type ResumeOptions, type SentFile } from './transfer-outcomes.ts';
export { PeerError, type SessionEnd, type SessionEndKind } from './session-end.ts';

/** How long a closing session waits for its BYE to be flushed before it drops the socket. */
const BYE_LINGER_MS = 2000;

export class PeerSession {
  readonly direction: 'in' | 'out';
  /** The remote host:port, for logs. */
  readonly address: string;
  readonly ready: Promise<PeerInfo>;
  /** Resolves with the end once the session has ended and no partial file of it is left. */
  readonly closed: Promise<SessionEnd>;
  private readonly socket: Socket;
  private readonly handlers: SessionHandlers;
  private readonly peerFingerprint: () => string | undefined;
  private readonly reading: ReadPauses;
  private readonly output: OutputBudget;
  private readonly inbox: FrameInbox;
  private readonly handshake: Handshake;
  private readonly keepalive: Keepalive;
  private readonly messages: MessageExchange;
  private readonly sender: TransferSender;
  private readonly incoming: IncomingTransfers;
  private ended: SessionEnd | undefined;
  private markClosed!: (end: SessionEnd) => void;

  constructor(options: SessionOptions) {
    this.socket = options.socket;
    this.direction = options.direction;
    this.handlers = options.handlers;
    this.peerFingerprint = options.peerFingerprint;
    this.address = options.address ?? formatAddress(this.socket.remoteAddress, this.socket.remotePort);
    const keepalive = options.keepalive ?? DEFAULT_KEEPALIVE;
    this.reading = new ReadPauses(this.socket);
    // A peer that leaves its answers unread as long as a dead one stays silent is dropped like one.
    this.output = new OutputBudget({
      socket: this.socket, pauses: this.reading, stallLimitMs: keepalive.silenceLimitMs, drop: (reason) => this.close('unread', reason),
    });
    this.inbox = new FrameInbox({
      rates: frameRates(options.rates),
      handshake: handshakeFrames(this.direction),
      deliver: (frame) => this.dispatch(frame),
      violation: (error) => this.violation(error),
      isOpen: () => !this.isClosed,
      hold: () => this.reading.add('throttle'),
      release: () => this.reading.delete('throttle'),
    });
    // What the parts may do with this connection; each takes the part of it that its job needs.
    const link = {
      send: (frame: Frame) => { this.send(frame); },
      close: (kind: ByeCode, detail: string) => this.close(kind, detail),
      isClosed: () => this.isClosed,
      peerFingerprint: () => options.peerFingerprint(),
      assertOpen: () => { if (this.ended) throw closedError(this.ended); },
      paused: () => this.reading.paused,
      socket: this.socket,
      dataTaken: () => { this.keepalive.signOfLife(); this.output.noteTaken(); },
    };
    this.keepalive = new Keepalive(keepalive, link);
    this.messages = new MessageExchange(link, (message) => this.handlers.onMessage(message));
    this.sender = new TransferSender(link);
    this.incoming = new IncomingTransfers(link, this.handlers);
    this.handshake = new Handshake({
      direction: this.direction,
      address: this.address,
      local: options.local,
      peerFingerprint: options.peerFingerprint,
      ...(options.handshakeTimeoutMs === undefined ? {} : { timeoutMs: options.handshakeTimeoutMs }),
      link,
      admit: (peer) => this.handlers.admit?.(peer),
      onComplete: (peer) => { this.keepalive.start(); this.handlers.onEstablished?.(peer); },
    });
    this.ready = this.handshake.ready;
    this.closed = new Promise((resolve) => { this.markClosed = resolve; });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      if (this.isClosed) return;
      this.keepalive.signOfLife();
      this.inbox.push(chunk);
    });
    const transport = (detail: string) => this.finish({ kind: 'transport', remote: false, detail });
    this.socket.on('error', (error) => transport(`socket error: ${error.message}`));
    this.socket.on('close', () => transport(this.peer ? 'connection closed by peer' : 'connection closed during handshake'));
    // A FIN ends the connection at once: answering with our own half-close would wait behind
    // whatever we still have queued for a peer that reads nothing.
    this.socket.on('end', () => {
      transport(this.peer ? 'connection closed by peer' : 'connection closed during handshake');
      this.socket.destroy();
    });
    this.handshake.start();
  }

  get peer(): PeerInfo | undefined {
    return this.handshake.peer;
  }

  /** The name and key the other side claimed in its HELLO, even if the handshake did not finish. */
  get claimedPeer(): PeerInfo | undefined {
    return this.handshake.claimedPeer;
  }

  get isClosed(): boolean {
    return this.ended !== undefined;
  }

  /** Why the session ended; undefined while it is open. */
  get end(): SessionEnd | undefined {
    return this.ended;
  }

  /** The end as one line (describeEnd), as the daemon logs it. */
  get closeReason(): string | undefined {
    return this.ended && describeEnd(this.ended);
  }

  /**
   * Sends one message; resolves once the peer's daemon has acknowledged it. A message sent again
   * (after a reconnection) keeps its `id` and `time`: that is how the peer knows it.
   */
  sendMessage(text: string, given: Partial<SentMessage> = {}): Promise<SentMessage> {
    return this.messages.send(text, given);
  }

  /** Streams a file that the caller has already checked (see TransferSender.send). */
  sendFile(
    filePath: string,
    name: string,
    size: number,
    onProgress: (sentBytes: number, id: string) => void = () => undefined,
    resume?: ResumeOptions,
  ): Promise<SentFile> {
    return this.sender.send(filePath, name, size, onProgress, resume);
  }

  /** Cancels a transfer of this connection, either way; false when it has none of that id. */
  cancelTransfer(id: string, reason: string): boolean {
    return this.sender.cancel(id, reason) || this.incoming.cancel(id, reason);
  }

  /** Incoming transfer `id` has all its data and is being verified and stored. */
  isFinishing(id: string): boolean {
    return this.incoming.isFinishing(id);
  }

  /** Tells the peer that our transfer `id`, not in progress now, is given up (TransferSender.cancelKept). */
  cancelKeptTransfer(id: string, reason: string): boolean {
    return this.sender.cancelKept(id, reason);
  }

  /**
   * Says goodbye (best effort: a BYE with `kind` as its code) and closes the connection. A bare
   * reason is an end of kind `local`, on purpose.
   */
  close(kind: ByeCode, detail: string): void;
  close(reason: string): void;
  close(kindOrReason: string, detail?: string): void {
    if (this.isClosed) return;
    const kind = detail === undefined ? 'local' : kindOrReason as ByeCode;
    const reason = detail ?? kindOrReason;
    // Before the transport has authenticated the peer there is nobody to say goodbye to.
    if (!this.socket.destroyed && this.socket.writable && this.peerFingerprint() !== undefined) {
      this.socket.end(encodeFrame({ kind: 'bye', reason: clipText(reason, MAX_REASON_BYTES), code: kind }));
      // A peer that never reads must not keep the socket open.
      setTimeout(() => this.socket.destroy(), BYE_LINGER_MS).unref();
    } else {
      this.socket.destroy();
    }
    this.finish({ kind, remote: false, detail: reason });
  }

  private send(frame: Frame): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    return this.output.write(encodeFrame(frame), frame.kind);
  }

  private violation(error: unknown): void {
    // Nothing more it sends is used: leave it in the kernel (TCP stops the peer) rather than
    // decrypt and drop what a broken or hostile peer keeps sending until the BYE linger ends.
    this.socket.pause();
    if (error instanceof ProtocolError) this.close('protocol', `protocol error: ${error.message}`);
    else this.close('internal', `internal error: ${String(error)}`);
  }

  private dispatch(frame: Frame): void {
    if (frame.kind === 'bye') {
      this.receiveBye(frame);
      return;
    }
    if (!this.peer && this.handshake.receive(frame)) return;
    switch (frame.kind) {
      case 'hello':
        throw new ProtocolError('second hello');
      case 'ping':
        this.send({ kind: 'pong', nonce: frame.nonce });
        return;
      case 'pong':
        return;
      case 'message':
      case 'messageAck':
        this.messages.receive(frame);
        return;
      case 'fileAccept':
      case 'fileDecline':
      case 'fileResult':
      case 'fileCredit':
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

  /**
   * The other side ends the connection. Before the handshake is complete this is a refusal in
   * place of the HELLO answer or of the dialler's confirmation, and its reason is what `chat
   * connect` reports. Without a code we know (an older peer) it is of kind `peerLeft`.
   */
  private receiveBye(bye: ByeFrame): void {
    if (this.peer) this.handlers.log(`peer ${quote(this.peer.name)} said goodbye: ${quote(bye.reason)}`);
    this.finish({ kind: bye.code ?? 'peerLeft', remote: true, detail: bye.reason });
  }

  /** Runs once: fails everything still waiting, closes partial files (then `closed`), tells the owner. */
  private finish(end: SessionEnd): void {
    if (this.isClosed) return;
    this.ended = end;
    this.keepalive.stop();
    this.inbox.close();
    this.output.close();
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.destroy();
    const error = closedError(end);
    this.handshake.fail(error);
    this.messages.fail(error);
    this.sender.fail(error);
    const done = () => this.markClosed(end);
    // Partial files stay for the sender to continue, unless it broke the protocol.
    const violated = end.kind === 'protocol' && !end.remote;
    (violated ? this.incoming.abortAll() : this.incoming.suspendAll()).then(done, done);
    this.handlers.onClosed(describeEnd(end), end);
  }
}

/** What every caller waiting on an ended session gets. */
function closedError(end: SessionEnd): PeerError {
  return new PeerError(`peer connection closed: ${describeEnd(end)}`, end);
}
