import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { FrameDecoder } from '../wire/decoder.ts';
import { ProtocolError } from '../wire/errors.ts';
import {
  clipText,
  encodeFrame,
  type FileOfferFrame,
  type Frame,
  type MessageFrame,
} from '../wire/frames.ts';
import {
  MAX_FRAME_BYTES,
  MAX_INCOMING_TRANSFERS,
  MAX_MESSAGE_BYTES,
  MAX_REASON_BYTES,
  FRAME_BURST,
  FRAMES_PER_SECOND,
  MESSAGE_BURST,
  MESSAGE_BYTE_BURST,
  MESSAGE_BYTES_PER_SECOND,
  MESSAGES_PER_SECOND,
  RECEIVE_BUFFER_BYTES,
} from '../wire/limits.ts';
import { DirectoryChangedError, type PinnedDirectory } from '../files/pinned-directory.ts';
import { FrameInbox, type FrameRates } from './frame-inbox.ts';
import { Handshake, handshakeFrames, type LocalIdentity, type PeerInfo, type Refusal } from './handshake.ts';
import { DEFAULT_KEEPALIVE, Keepalive, type KeepaliveOptions } from './keepalive.ts';
import { OutputBudget } from './output-budget.ts';
import { ReadPauses } from './read-pauses.ts';
import { quote } from './log-text.ts';
import { TransferReceiver, type ReceivedFile } from './transfer-receiver.ts';
import { TransferSender, type SentFile } from './transfer-sender.ts';
import { PeerError } from './session-end.ts';

/**
 * What the sender is told when the downloads directory's path no longer leads to the directory
 * chatd checked at start; the log says where it leads now (the path stays private).
 */
export const DOWNLOADS_CHANGED_REASON = "the receiver's downloads directory changed since chatd started";

export type { LocalIdentity, PeerInfo, Refusal } from './handshake.ts';

export interface SentMessage { id: string; time: string }
export type { SentFile } from './transfer-sender.ts';
export { PeerError } from './session-end.ts';

export interface SessionHandlers {
  /** Called for each message; the acknowledgement is sent once this has returned (or resolved). */
  onMessage(message: MessageFrame): void | Promise<void>;
  /**
   * Where to store an offered file, or why it is declined. `reservedBytes`: what the transfers
   * already accepted on this connection still have to write.
   */
  acceptFile(offer: FileOfferFrame, reservedBytes: number): { downloads: PinnedDirectory } | { decline: string };
  /** Called once a received file is verified and stored, before the sender is told. */
  onFileReceived(file: ReceivedFile): void | Promise<void>;
  onClosed(reason: string): void;
  log(line: string): void;
  /** Called as the handshake completes, before the next frame is read; `ready` resolves after. */
  onEstablished?(peer: PeerInfo): void;
  /**
   * A reason to refuse this peer once its HELLO has arrived: an incoming connection answers with
   * BYE instead of HELLO, an outgoing one says BYE instead of proceeding (see Handshake).
   */
  admit?(peer: PeerInfo): Refusal | string | undefined;
}

export interface SessionOptions {
  /** A connected transport: in the daemon a TLS socket, in tests also a plain one. */
  socket: Socket;
  direction: 'in' | 'out';
  /** The remote host:port for logs; default: the socket's. */
  address?: string;
  local: LocalIdentity;
  handlers: SessionHandlers;
  /** The authenticated peer's key fingerprint, read when its HELLO arrives (the transport is up by then). */
  peerFingerprint(): string | undefined;
  handshakeTimeoutMs?: number;
  keepalive?: KeepaliveOptions;
  /**
   * What the peer may deliver; default MESSAGES_PER_SECOND and MESSAGE_BURST, MESSAGE_BYTES_PER_SECOND
   * and MESSAGE_BYTE_BURST, FRAMES_PER_SECOND and FRAME_BURST.
   */
  rates?: Partial<FrameRates>;
}

export type { KeepaliveOptions } from './keepalive.ts';

/** How long a closing session waits for its BYE to be flushed before it drops the socket. */
const BYE_LINGER_MS = 2000;

interface Pending<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/**
 * One connection to one peer: the versioned HELLO exchange, message acknowledgements, file
 * offer/chunks/end in both directions with backpressure, and the rule that any protocol violation
 * ends this connection (never the daemon) with a logged reason.
 */
export class PeerSession {
  readonly direction: 'in' | 'out';
  readonly ready: Promise<PeerInfo>;
  private readonly socket: Socket;
  private readonly handlers: SessionHandlers;
  private readonly decoder: FrameDecoder;
  private readonly remoteAddress: string;
  private readonly handshake: Handshake;
  private closedReason: string | undefined;
  private readonly pendingAcks = new Map<string, Pending<void>>();
  private readonly sender: TransferSender;
  private readonly incoming = new Map<string, TransferReceiver>();
  private readonly reading: ReadPauses;
  private readonly output: OutputBudget;
  private readonly inbox: FrameInbox;
  private readonly peerFingerprint: () => string | undefined;
  private readonly keepalive: Keepalive;

  constructor(options: SessionOptions) {
    this.socket = options.socket;
    this.direction = options.direction;
    this.handlers = options.handlers;
    this.peerFingerprint = options.peerFingerprint;
    const keepalive = options.keepalive ?? DEFAULT_KEEPALIVE;
    this.remoteAddress = options.address ?? formatAddress(this.socket.remoteAddress, this.socket.remotePort);
    this.decoder = new FrameDecoder(MAX_FRAME_BYTES, handshakeFrames(this.direction));
    this.reading = new ReadPauses(this.socket);
    // A peer that leaves its answers unread as long as a dead one stays silent is dropped like one.
    this.output = new OutputBudget({
      socket: this.socket, pauses: this.reading, stallLimitMs: keepalive.silenceLimitMs, drop: (reason) => this.close(reason),
    });
    this.inbox = new FrameInbox({
      rates: {
        messages: options.rates?.messages ?? { perSecond: MESSAGES_PER_SECOND, burst: MESSAGE_BURST },
        messageBytes: options.rates?.messageBytes ?? { perSecond: MESSAGE_BYTES_PER_SECOND, burst: MESSAGE_BYTE_BURST },
        frames: options.rates?.frames ?? { perSecond: FRAMES_PER_SECOND, burst: FRAME_BURST },
      },
      deliver: (frame) => this.dispatchSafely(frame),
      hold: () => this.reading.add('throttle'),
      release: () => this.reading.delete('throttle'),
    });
    this.keepalive = new Keepalive(keepalive, {
      send: (frame) => this.send(frame),
      close: (_kind, detail) => this.close(detail),
      paused: () => this.reading.paused,
    });
    this.sender = new TransferSender({
      send: (frame) => this.send(frame),
      assertOpen: () => this.assertOpen(),
      isClosed: () => this.isClosed,
      socket: this.socket,
      dataTaken: () => {
        this.keepalive.signOfLife();
        this.output.noteTaken();
      },
    });
    this.handshake = new Handshake({
      direction: this.direction,
      address: this.remoteAddress,
      local: options.local,
      peerFingerprint: options.peerFingerprint,
      ...(options.handshakeTimeoutMs === undefined ? {} : { timeoutMs: options.handshakeTimeoutMs }),
      link: { send: (frame) => this.send(frame), close: (_kind, detail) => this.close(detail) },
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

  /**
   * Streams a file that the caller has already checked. Resolves once the receiver has stored it
   * and its SHA-256 matches ours.
   */
  async sendFile(
    filePath: string,
    name: string,
    size: number,
    onProgress: (sentBytes: number, id: string) => void = () => undefined,
  ): Promise<SentFile> {
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
      case 'fileOffer':
        this.receiveOffer(frame);
        return;
      case 'fileAccept':
      case 'fileDecline':
      case 'fileResult':
        this.sender.receive(frame);
        return;
      case 'fileChunk':
        this.receiveChunk(frame.id, frame.data);
        return;
      case 'fileEnd':
        this.receiveEnd(frame.id, frame.sha256);
        return;
      case 'fileCancel': {
        // A cancel may cross our FILE_RESULT on the wire, so an unknown id is not a violation.
        const receiver = this.incoming.get(frame.id);
        if (!receiver) return;
        this.incoming.delete(frame.id);
        this.handlers.log(`peer cancelled transfer ${frame.id}: ${quote(frame.reason)}`);
        void receiver.abort();
        return;
      }
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

  private receiveOffer(offer: FileOfferFrame): void {
    if (this.incoming.has(offer.id)) throw new ProtocolError(`duplicate offer ${offer.id}`);
    if (this.incoming.size >= MAX_INCOMING_TRANSFERS) {
      this.send({ kind: 'fileDecline', id: offer.id, reason: `too many transfers at once (max ${MAX_INCOMING_TRANSFERS})` });
      return;
    }
    let reservedBytes = 0;
    for (const receiver of this.incoming.values()) reservedBytes += receiver.expectedSize - receiver.bytesReceived;
    const decision = this.handlers.acceptFile(offer, reservedBytes);
    if ('decline' in decision) {
      this.send({ kind: 'fileDecline', id: offer.id, reason: decision.decline });
      return;
    }
    const receiver = new TransferReceiver(decision.downloads, offer.id, offer.name, offer.size);
    this.incoming.set(offer.id, receiver);
    receiver.open().then(
      () => {
        if (this.incoming.get(offer.id) === receiver) this.send({ kind: 'fileAccept', id: offer.id, offset: 0 });
      },
      (error: unknown) => {
        this.incoming.delete(offer.id);
        const changed = error instanceof DirectoryChangedError;
        this.handlers.log(`cannot store offered file ${quote(offer.name)}: ${changed ? `refused: ${error.message}` : String(error)}`);
        const reason = changed ? DOWNLOADS_CHANGED_REASON : 'receiver cannot write to its downloads directory';
        this.send({ kind: 'fileDecline', id: offer.id, reason });
      },
    );
  }

  private receiveChunk(id: string, data: Buffer): void {
    const receiver = this.acceptedTransfer(id, 'chunk');
    if (receiver.bytesReceived + data.length > receiver.expectedSize) {
      throw new ProtocolError(`transfer ${id} sent more than the ${receiver.expectedSize} bytes it offered`);
    }
    void receiver.write(data).then(() => this.resumeIfBelowLimit());
    if (!this.reading.has('disk') && this.bufferedReceiveBytes() > RECEIVE_BUFFER_BYTES) this.reading.add('disk');
  }

  private bufferedReceiveBytes(): number {
    let total = 0;
    for (const receiver of this.incoming.values()) total += receiver.bufferedBytes;
    return total;
  }

  private resumeIfBelowLimit(): void {
    if (this.reading.has('disk') && this.bufferedReceiveBytes() <= RECEIVE_BUFFER_BYTES / 2 && !this.isClosed) {
      this.reading.delete('disk');
    }
  }

  private receiveEnd(id: string, sha256: string): void {
    const receiver = this.acceptedTransfer(id, 'end');
    this.incoming.delete(id);
    receiver
      .finish(sha256)
      .then(async (file) => {
        await this.handlers.onFileReceived(file);
        this.send({ kind: 'fileResult', id, ok: true, sha256: file.sha256, reason: '' });
      })
      .catch(async (error: unknown) => {
        await receiver.abort();
        if (error instanceof DirectoryChangedError) {
          this.handlers.log(`transfer ${id} refused before it was named: ${error.message}`);
          this.send({ kind: 'fileResult', id, ok: false, sha256: '', reason: DOWNLOADS_CHANGED_REASON });
          return;
        }
        const reason = error instanceof Error ? error.message : String(error);
        this.handlers.log(`transfer ${id} failed: ${quote(reason)}`);
        this.send({ kind: 'fileResult', id, ok: false, sha256: '', reason: clipText(reason, MAX_REASON_BYTES) });
      });
  }

  private incomingTransfer(id: string): TransferReceiver {
    const receiver = this.incoming.get(id);
    if (!receiver) throw new ProtocolError(`frame for unknown incoming transfer ${id}`);
    return receiver;
  }

  /** Its file is open once we have sent FILE_ACCEPT: data before that is the sender's violation. */
  private acceptedTransfer(id: string, what: 'chunk' | 'end'): TransferReceiver {
    const receiver = this.incomingTransfer(id);
    if (!receiver.isOpen) throw new ProtocolError(`file ${what} for transfer ${id} before it was accepted`);
    return receiver;
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
    for (const receiver of this.incoming.values()) void receiver.abort();
    this.incoming.clear();
    this.handlers.onClosed(reason);
  }
}

/** host:port, with IPv6 hosts in brackets, as logs and events show a connection's address. */
export function formatAddress(host: string | undefined, port: number | undefined): string {
  if (!host) return 'unknown';
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
