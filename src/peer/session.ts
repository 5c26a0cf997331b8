import { createHash, randomUUID, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { FrameDecoder } from '../wire/decoder.ts';
import { ProtocolError } from '../wire/errors.ts';
import {
  clipText,
  encodeFileChunkHeader,
  encodeFrame,
  uuidToBytes,
  type FileOfferFrame,
  type Frame,
  type HelloFrame,
  type MessageFrame,
} from '../wire/frames.ts';
import {
  FILE_CHUNK_BYTES,
  FILE_READ_BYTES,
  HANDSHAKE_TIMEOUT_MS,
  MAX_FRAME_BYTES,
  MAX_HELLO_FRAME_BYTES,
  MAX_INCOMING_TRANSFERS,
  MAX_MESSAGE_BYTES,
  MAX_REASON_BYTES,
  FRAME_BURST,
  FRAMES_PER_SECOND,
  MESSAGE_BURST,
  MESSAGE_BYTE_BURST,
  MESSAGE_BYTES_PER_SECOND,
  MESSAGES_PER_SECOND,
  MIN_PROTOCOL_VERSION,
  PEER_SILENCE_LIMIT_MS,
  PING_INTERVAL_MS,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  RECEIVE_BUFFER_BYTES,
  SEND_BLOCKS,
} from '../wire/limits.ts';
import { DirectoryChangedError, type PinnedDirectory } from '../files/pinned-directory.ts';
import { BlockPool } from './block-pool.ts';
import { FrameInbox, type FrameRates } from './frame-inbox.ts';
import { OutputBudget } from './output-budget.ts';
import { ReadPauses } from './read-pauses.ts';
import { quote } from './log-text.ts';
import { TransferReceiver, type ReceivedFile } from './transfer-receiver.ts';

/**
 * What the sender is told when the downloads directory's path no longer leads to the directory
 * chatd checked at start; the log says where it leads now (the path stays private).
 */
export const DOWNLOADS_CHANGED_REASON = "the receiver's downloads directory changed since chatd started";

export interface LocalIdentity {
  name: string;
  /** Random per daemon run. */
  instance: string;
  listenPort: number;
}

export interface PeerInfo {
  name: string;
  instance: string;
  /** Protocol version both sides speak on this connection. */
  version: number;
  /** The peer's own listening port (0 if it does not listen). */
  listenPort: number;
  /** Remote address of this connection, host:port. */
  address: string;
  /** `out` when we dialled. */
  direction: 'in' | 'out';
  /** SHA-256 of the public key the peer proved it holds (64 hex digits), from the transport. */
  fingerprint: string;
}

export interface SentMessage { id: string; time: string }
export interface SentFile { id: string; name: string; size: number; sha256: string }

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
   * BYE instead of HELLO, an outgoing one says BYE instead of proceeding.
   */
  admit?(peer: PeerInfo): string | undefined;
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

/** When a quiet connection is pinged, and how long it may stay silent before it is dropped. */
export interface KeepaliveOptions {
  pingIntervalMs: number;
  silenceLimitMs: number;
}

/** The dialler's PING that confirms the listener's HELLO; keepalive pings count from 1. */
const HANDSHAKE_CONFIRMATION_NONCE = 0;

/** How long a closing session waits for its BYE to be flushed before it drops the socket. */
const BYE_LINGER_MS = 2000;

/** Raised to callers of a session that ended, or whose peer refused something. */
export class PeerError extends Error {
  override name = 'PeerError';
}

interface Pending<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

interface OutgoingTransfer {
  size: number;
  accepted: Pending<number>;
  result: Pending<{ sha256: string }>;
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
  private readonly local: LocalIdentity;
  private readonly handlers: SessionHandlers;
  private readonly decoder: FrameDecoder;
  private readonly remoteAddress: string;
  private peerInfo: PeerInfo | undefined;
  /** Listener only: the peer whose HELLO we answered, until the dialler confirms it accepts us. */
  private answeredPeer: PeerInfo | undefined;
  private handshake!: Pending<PeerInfo>;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private closedReason: string | undefined;
  private readonly pendingAcks = new Map<string, Pending<void>>();
  private readonly outgoing = new Map<string, OutgoingTransfer>();
  private readonly incoming = new Map<string, TransferReceiver>();
  /** Told the reason when the connection ends, so nothing waits forever for a flushed block. */
  private readonly closeWatchers = new Set<(error: Error) => void>();
  private readonly reading: ReadPauses;
  private readonly output: OutputBudget;
  private readonly inbox: FrameInbox;
  private readonly peerFingerprint: () => string | undefined;
  private readonly keepalive: KeepaliveOptions;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  /** Bytes from the peer, or our bytes taken off the socket: either way it is alive. */
  private lastSignOfLife = Date.now();
  private nextPingNonce = 1;

  constructor(options: SessionOptions) {
    this.socket = options.socket;
    this.direction = options.direction;
    this.local = options.local;
    this.handlers = options.handlers;
    this.peerFingerprint = options.peerFingerprint;
    this.keepalive = options.keepalive ?? { pingIntervalMs: PING_INTERVAL_MS, silenceLimitMs: PEER_SILENCE_LIMIT_MS };
    this.remoteAddress = options.address ?? formatAddress(this.socket.remoteAddress, this.socket.remotePort);
    // Until the handshake is complete the peer may only send its HELLO (and, to a listener, the
    // confirmation): a stranger cannot park a partial frame of MAX_FRAME_BYTES in a pending handshake.
    this.decoder = new FrameDecoder(MAX_FRAME_BYTES, {
      count: this.direction === 'in' ? 2 : 1,
      maxFrameBytes: MAX_HELLO_FRAME_BYTES,
    });
    this.reading = new ReadPauses(this.socket);
    // A peer that leaves its answers unread as long as a dead one stays silent is dropped like one.
    this.output = new OutputBudget({
      socket: this.socket, pauses: this.reading, stallLimitMs: this.keepalive.silenceLimitMs, drop: (reason) => this.close(reason),
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
    this.ready = new Promise<PeerInfo>((resolve, reject) => {
      this.handshake = { resolve, reject };
    });
    this.ready.catch(() => undefined);
    this.handshakeTimer = setTimeout(
      () => this.close(`no handshake within ${options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS} ms`),
      options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
    );
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error) => this.finish(`socket error: ${error.message}`));
    this.socket.on('close', () => this.finish(this.peerInfo ? 'connection closed by peer' : 'connection closed during handshake'));
    this.socket.on('end', () => this.socket.end());
    // The dialler speaks first; the listener answers with its HELLO, or with a BYE that says why
    // it refuses (busy, incompatible version, a changed key), so the dialler's `chat connect` can
    // report it. The dialler then confirms with a PING, or refuses the listener with a BYE.
    if (this.direction === 'out') this.sendHello();
  }

  private sendHello(): void {
    this.send({
      kind: 'hello',
      protocol: PROTOCOL_NAME,
      version: PROTOCOL_VERSION,
      minVersion: MIN_PROTOCOL_VERSION,
      name: this.local.name,
      instance: this.local.instance,
      listenPort: this.local.listenPort,
    });
  }

  get peer(): PeerInfo | undefined {
    return this.peerInfo;
  }

  /** The name and key the other side claimed in its HELLO, even if the handshake did not finish. */
  get claimedPeer(): PeerInfo | undefined {
    return this.peerInfo ?? this.answeredPeer;
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

  /**
   * Sends one message; resolves once the peer's daemon has acknowledged it. A message sent again
   * (after a reconnection) keeps its `id` and `time`: that is how the peer knows it.
   */
  async sendMessage(text: string, given: Partial<SentMessage> = {}): Promise<SentMessage> {
    this.assertOpen();
    // The peer would treat both as protocol violations and drop the connection.
    if (text.length === 0) throw new PeerError('message is empty');
    if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) throw new PeerError(`message exceeds ${MAX_MESSAGE_BYTES} bytes`);
    const id = given.id ?? randomUUID();
    const time = given.time ?? new Date().toISOString();
    // Its ACK could not tell the two apart.
    if (this.pendingAcks.has(id)) throw new PeerError(`message ${id} is already on its way`);
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
    this.assertOpen();
    const id = randomUUID();
    const transfer: Partial<OutgoingTransfer> = { size };
    const accepted = new Promise<number>((resolve, reject) => { transfer.accepted = { resolve, reject }; });
    const result = new Promise<{ sha256: string }>((resolve, reject) => { transfer.result = { resolve, reject }; });
    result.catch(() => undefined);
    this.outgoing.set(id, transfer as OutgoingTransfer);
    try {
      this.send({ kind: 'fileOffer', id, name, size });
      const offset = await accepted;
      const hash = createHash('sha256');
      let sent = offset;
      const idBytes = uuidToBytes(id);
      if (offset > 0) throw new PeerError('resuming a transfer is not supported yet');
      // Exactly the offered bytes: a file that grows meanwhile (a log) must not overrun the offer.
      sent = await this.streamFile(filePath, idBytes, offset, size, hash, (bytes) => onProgress(bytes, id));
      if (sent !== size) throw new PeerError(`${filePath} shrank while it was being sent (${sent} of ${size} bytes)`);
      const sha256 = hash.digest('hex');
      this.send({ kind: 'fileEnd', id, sha256 });
      const verdict = await result;
      if (verdict.sha256 !== sha256) throw new PeerError(`receiver stored a different file (SHA-256 ${verdict.sha256})`);
      return { id, name, size: sent, sha256 };
    } catch (error) {
      if (!this.isClosed && this.outgoing.has(id)) {
        this.send({ kind: 'fileCancel', id, reason: clipText((error as Error).message, MAX_REASON_BYTES) });
      }
      throw error;
    } finally {
      this.outgoing.delete(id);
    }
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

  /** Sends bytes [offset, size) as chunks from a small pool of reused blocks; returns the end offset. */
  private async streamFile(
    filePath: string,
    idBytes: Buffer,
    offset: number,
    size: number,
    hash: Hash,
    onProgress: (sentBytes: number) => void,
  ): Promise<number> {
    const pool = new BlockPool(SEND_BLOCKS, FILE_READ_BYTES);
    const stopOnClose = (error: Error) => pool.fail(error);
    this.closeWatchers.add(stopOnClose);
    const file = await open(filePath, 'r');
    let position = offset;
    try {
      while (position < size) {
        const block = await pool.acquire();
        this.assertOpen();
        const { bytesRead } = await file.read(block, 0, Math.min(block.length, size - position), position);
        if (bytesRead === 0) {
          pool.release(block);
          break;
        }
        for (let at = 0; at < bytesRead; at += FILE_CHUNK_BYTES) {
          const data = block.subarray(at, Math.min(at + FILE_CHUNK_BYTES, bytesRead));
          hash.update(data);
          const last = at + FILE_CHUNK_BYTES >= bytesRead;
          this.writeChunk(idBytes, data, last ? () => pool.release(block) : undefined);
        }
        position += bytesRead;
        onProgress(position);
      }
    } finally {
      this.closeWatchers.delete(stopOnClose);
      await file.close();
    }
    return position;
  }

  /** Header and data go out as two buffers in one writev: the chunk is never copied. */
  private writeChunk(idBytes: Buffer, data: Buffer, flushed?: () => void): void {
    const header = encodeFileChunkHeader(idBytes, data.length);
    this.socket.cork();
    this.socket.write(header);
    // The callback runs once the data has left for the kernel (or the socket failed): either way
    // the block may be reused. The kernel taking data means the peer's TCP stack still acknowledges.
    this.socket.write(data, flushed && (() => {
      this.lastSignOfLife = Date.now();
      this.output.noteTaken();
      flushed();
    }));
    this.socket.uncork();
  }

  private assertOpen(): void {
    if (this.isClosed) throw new PeerError(`peer connection closed: ${this.closedReason}`);
  }

  private receive(chunk: Buffer): void {
    if (this.isClosed) return;
    this.lastSignOfLife = Date.now();
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
    if (!this.peerInfo) {
      if (frame.kind === 'bye') {
        // A refusal in place of the HELLO answer or of the dialler's confirmation: its reason is
        // what the other side reports.
        this.finish(`peer left: ${frame.reason || 'no reason given'}`);
        return;
      }
      if (!this.answeredPeer) {
        if (frame.kind !== 'hello') throw new ProtocolError(`expected hello, got ${frame.kind}`);
        this.acceptHello(frame);
        return;
      }
      // The dialler's PING after our HELLO says it accepted us: now we are connected.
      if (frame.kind !== 'ping' || frame.nonce !== HANDSHAKE_CONFIRMATION_NONCE) {
        throw new ProtocolError(`expected the dialler's confirmation (ping ${HANDSHAKE_CONFIRMATION_NONCE}), got ${frame.kind}`);
      }
      this.completeHandshake(this.answeredPeer);
      this.answeredPeer = undefined;
    }
    switch (frame.kind) {
      case 'hello':
        throw new ProtocolError('second hello');
      case 'bye':
        this.handlers.log(`peer ${quote(this.peerInfo?.name ?? '')} said goodbye: ${quote(frame.reason)}`);
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
      case 'fileAccept': {
        const transfer = this.outgoingTransfer(frame.id);
        if (frame.offset > transfer.size) throw new ProtocolError(`accept offset ${frame.offset} beyond the file's end`);
        transfer.accepted.resolve(frame.offset);
        return;
      }
      case 'fileDecline':
        this.outgoingTransfer(frame.id).accepted.reject(new PeerError(`peer declined the file: ${frame.reason}`));
        return;
      case 'fileResult': {
        const transfer = this.outgoingTransfer(frame.id);
        if (frame.ok) transfer.result.resolve({ sha256: frame.sha256 });
        else transfer.result.reject(new PeerError(`peer could not store the file: ${frame.reason}`));
        return;
      }
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

  private acceptHello(hello: HelloFrame): void {
    if (hello.protocol !== PROTOCOL_NAME) throw new ProtocolError(`not a chat peer (protocol "${hello.protocol}")`);
    const version = Math.min(hello.version, PROTOCOL_VERSION);
    if (version < MIN_PROTOCOL_VERSION || version < hello.minVersion) {
      throw new ProtocolError(
        `no common protocol version (we speak ${MIN_PROTOCOL_VERSION}-${PROTOCOL_VERSION}, peer ${hello.minVersion}-${hello.version})`,
      );
    }
    if (hello.instance === this.local.instance) throw new ProtocolError('connected to ourselves');
    const fingerprint = this.peerFingerprint();
    if (!fingerprint) throw new ProtocolError('hello before the peer was authenticated');
    const peer: PeerInfo = {
      name: hello.name,
      instance: hello.instance,
      version,
      listenPort: hello.listenPort,
      address: this.remoteAddress,
      direction: this.direction,
      fingerprint,
    };
    const refusal = this.handlers.admit?.(peer);
    if (refusal) {
      this.close(refusal);
      return;
    }
    if (this.direction === 'in') {
      // Not connected yet: the dialler still checks our name and key, and may say BYE instead.
      this.answeredPeer = peer;
      this.sendHello();
      return;
    }
    this.send({ kind: 'ping', nonce: HANDSHAKE_CONFIRMATION_NONCE });
    this.completeHandshake(peer);
  }

  private completeHandshake(peer: PeerInfo): void {
    clearTimeout(this.handshakeTimer);
    this.peerInfo = peer;
    this.startKeepalive();
    // Synchronously, before any frame that came in the same read (an offer) is dispatched.
    this.handlers.onEstablished?.(peer);
    this.handshake.resolve(peer);
  }

  private startKeepalive(): void {
    const { pingIntervalMs, silenceLimitMs } = this.keepalive;
    this.lastSignOfLife = Date.now();
    this.keepaliveTimer = setInterval(() => {
      const now = Date.now();
      if (this.reading.paused) {
        // While we do not read, the peer's answers wait in the socket: its silence proves nothing.
        // Our own pings still reach it, so a sender stalled by our slow disk knows we are alive.
        // (A peer that is not read because it does not read us is the output budget's to drop.)
        this.lastSignOfLife = now;
        this.send({ kind: 'ping', nonce: this.nextPingNonce++ });
        return;
      }
      const silentMs = now - this.lastSignOfLife;
      if (silentMs >= silenceLimitMs) {
        this.close(`no sign of life from the peer for ${Math.round(silentMs / 1000)} s (ping timeout)`);
      } else if (silentMs >= pingIntervalMs / 2) {
        this.send({ kind: 'ping', nonce: this.nextPingNonce++ });
      }
    }, pingIntervalMs);
    this.keepaliveTimer.unref();
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

  private outgoingTransfer(id: string): OutgoingTransfer {
    const transfer = this.outgoing.get(id);
    if (!transfer) throw new ProtocolError(`frame for unknown outgoing transfer ${id}`);
    return transfer;
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
    clearTimeout(this.handshakeTimer);
    clearInterval(this.keepaliveTimer);
    this.inbox.close();
    this.output.close();
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.destroy();
    const error = new PeerError(`peer connection closed: ${reason}`);
    this.handshake.reject(error);
    for (const pending of this.pendingAcks.values()) pending.reject(error);
    this.pendingAcks.clear();
    for (const transfer of this.outgoing.values()) {
      transfer.accepted.reject(error);
      transfer.result.reject(error);
    }
    for (const watcher of this.closeWatchers) watcher(error);
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
