/**
 * The sending side of file transfers on one connection: offers a file, streams exactly its offered
 * bytes as FILE_CHUNKs from a few reused blocks as far as the receiver's credit goes, ends it with
 * its SHA-256 and waits for the receiver's verdict.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { ProtocolError } from '../wire/errors.ts';
import { clipText } from '../text/clip.ts';
import {
  encodeFileChunkHeader,
  uuidToBytes,
  type FileAcceptFrame,
  type FileCreditFrame,
  type FileDeclineFrame,
  type FileResultFrame,
  type Frame,
} from '../wire/frames.ts';
import { FILE_CHUNK_BYTES, FILE_READ_BYTES, MAX_REASON_BYTES, SEND_BLOCKS } from '../wire/limits.ts';
import { BlockPool } from './block-pool.ts';
import { hashFileRange } from './file-hash.ts';
import { countReadAgainToHash, forgetSentHashes, keepSentHash, nearestSentHash, SENT_HASH_POINT_BYTES, startSentHashes } from './sent-hashes.ts';
import { PeerError } from './session-end.ts';
import { WaitingForRoomError, type ResumeOptions, type SentFile } from './transfer-outcomes.ts';

/** What the sender needs of its connection. */
export interface SenderLink {
  send(frame: Frame): void;
  /** Throws the connection's PeerError once it has ended. */
  assertOpen(): void;
  isClosed(): boolean;
  /** File data goes straight to the socket, not through the output budget (it has its own bound, the pool). */
  readonly socket: Pick<Socket, 'cork' | 'write' | 'uncork'>;
  /** The kernel took a block of our file data: the peer's TCP stack still acknowledges. */
  dataTaken(): void;
}

/** The answers to our transfers: the frames this side handles. */
export type SenderFrame = FileAcceptFrame | FileDeclineFrame | FileResultFrame | FileCreditFrame;

interface Pending<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

interface OutgoingTransfer {
  size: number;
  /** Set by the receiver's ACCEPT or DECLINE: a second answer to one offer is a violation. */
  answered?: boolean;
  accepted: Pending<number>;
  result: Pending<{ sha256: string }>;
  /** Set when the receiver failed the transfer before its end (a write error on its side). */
  failed?: Error;
  /** Stops the streaming at once when the receiver fails the transfer. */
  onFailed?: (error: Error) => void;
  /** The receiver's FILE_CREDIT: bytes before this may be sent. */
  until: number;
  /** Set while the streaming waits for credit up to `needed`. */
  creditWaiter?: { needed: number; resolve(): void; reject(error: Error): void };
}

export class TransferSender {
  private readonly link: SenderLink;
  private readonly outgoing = new Map<string, OutgoingTransfer>();
  /** Told the reason when the connection ends, so nothing waits forever for a flushed block. */
  private readonly closeWatchers = new Set<(error: Error) => void>();

  constructor(link: SenderLink) {
    this.link = link;
  }

  /**
   * Streams a file that the caller has already checked. Resolves once the receiver has stored it
   * and its SHA-256 matches ours.
   */
  async send(
    filePath: string,
    name: string,
    size: number,
    onProgress: (sentBytes: number, id: string) => void,
    resume?: ResumeOptions,
  ): Promise<SentFile> {
    this.link.assertOpen();
    const id = resume?.id ?? randomUUID();
    if (this.outgoing.has(id)) throw new PeerError(`transfer ${id} is already being sent`);
    const transfer: Partial<OutgoingTransfer> = { size, until: 0 };
    const accepted = new Promise<number>((resolve, reject) => { transfer.accepted = { resolve, reject }; });
    const result = new Promise<{ sha256: string }>((resolve, reject) => { transfer.result = { resolve, reject }; });
    result.catch(() => undefined);
    this.outgoing.set(id, transfer as OutgoingTransfer);
    try {
      this.link.send({ kind: 'fileOffer', id, name, size });
      const offset = await accepted;
      resume?.onAccepted?.(offset);
      // Exactly the offered bytes: a file that grows meanwhile (a log) must not overrun the offer.
      const { end: sent, hash } = await this.streamFile(transfer as OutgoingTransfer, filePath, id, offset, size, (bytes) => onProgress(bytes, id), resume);
      if (sent !== size) throw new PeerError(`${filePath} shrank while it was being sent (${sent} of ${size} bytes)`);
      const sha256 = hash.digest('hex');
      this.link.send({ kind: 'fileEnd', id, sha256 });
      const verdict = await result;
      if (verdict.sha256 !== sha256) throw new PeerError(`receiver stored a different file (SHA-256 ${verdict.sha256})`);
      forgetSentHashes(id);
      return { id, name, size: sent, sha256 };
    } catch (error) {
      // A receiver waiting for room keeps its partial file: a FILE_CANCEL would make it drop it.
      if (!this.link.isClosed() && this.outgoing.has(id) && !(error instanceof WaitingForRoomError)) {
        this.link.send({ kind: 'fileCancel', id, reason: clipText((error as Error).message, MAX_REASON_BYTES) });
        forgetSentHashes(id);
      }
      throw error;
    } finally {
      this.outgoing.delete(id);
    }
  }

  /** The receiver's answer to one of our transfers; throws ProtocolError for a transfer we do not have. */
  receive(frame: SenderFrame): void {
    const transfer = this.outgoing.get(frame.id);
    // Credit may cross our FILE_CANCEL on the wire: for a transfer we no longer send it is no violation.
    if (!transfer && frame.kind === 'fileCredit') return;
    if (!transfer) throw new ProtocolError(`frame for unknown outgoing transfer ${frame.id}`);
    switch (frame.kind) {
      case 'fileCredit': {
        if (!transfer.answered) throw new ProtocolError(`credit for transfer ${frame.id} before it was accepted`);
        if (frame.until > transfer.size) throw new ProtocolError(`credit for transfer ${frame.id} beyond the file's end`);
        if (frame.until < transfer.until) throw new ProtocolError(`credit for transfer ${frame.id} went back from ${transfer.until} to ${frame.until}`);
        transfer.until = frame.until;
        const waiter = transfer.creditWaiter;
        if (waiter && frame.until >= waiter.needed) {
          transfer.creditWaiter = undefined;
          waiter.resolve();
        }
        return;
      }
      case 'fileAccept':
        if (transfer.answered) throw new ProtocolError(`second answer to the offer of transfer ${frame.id}`);
        if (frame.offset > transfer.size) throw new ProtocolError(`accept offset ${frame.offset} beyond the file's end`);
        transfer.answered = true;
        transfer.accepted.resolve(frame.offset);
        return;
      case 'fileDecline':
        if (transfer.answered) throw new ProtocolError(`second answer to the offer of transfer ${frame.id}`);
        transfer.answered = true;
        transfer.accepted.reject(frame.later ? new WaitingForRoomError(frame.reason) : new PeerError(`peer declined the file: ${frame.reason}`));
        return;
      case 'fileResult':
        // A failed result may come in place of the ACCEPT (the receiver's user cancelled it while
        // its file was being opened); a success cannot.
        if (!transfer.answered && frame.ok) throw new ProtocolError(`file result for transfer ${frame.id} before it was accepted`);
        if (frame.ok) {
          transfer.result.resolve({ sha256: frame.sha256 });
        } else {
          // It may come before our FILE_END (the receiver's disk filled up): stop sending at once.
          const error = frame.later ? new WaitingForRoomError(frame.reason) : new PeerError(`peer could not store the file: ${frame.reason}`);
          transfer.failed = error;
          transfer.answered = true;
          transfer.accepted.reject(error);
          transfer.result.reject(error);
          transfer.onFailed?.(error);
        }
        return;
    }
  }

  /**
   * Gives up one of our transfers now (`chat transfers cancel`): it fails with `reason`, and the
   * receiver is told (FILE_CANCEL) and drops its partial file. False when it is not being sent.
   */
  cancel(id: string, reason: string): boolean {
    const transfer = this.outgoing.get(id);
    if (!transfer) return false;
    const error = new PeerError(reason);
    transfer.failed = error;
    transfer.accepted.reject(error);
    transfer.result.reject(error);
    transfer.onFailed?.(error);
    return true;
  }

  /**
   * Tells the receiver that a transfer not in progress on this connection (waiting for room, or
   * interrupted) is given up, so it drops its partial file. False when the connection is closed.
   */
  cancelKept(id: string, reason: string): boolean {
    if (this.link.isClosed() || this.outgoing.has(id)) return false;
    this.link.send({ kind: 'fileCancel', id, reason: clipText(reason, MAX_REASON_BYTES) });
    return true;
  }

  /** The connection ended: every transfer still waiting fails with `error`. */
  fail(error: Error): void {
    for (const transfer of this.outgoing.values()) {
      transfer.accepted.reject(error);
      transfer.result.reject(error);
    }
    for (const watcher of this.closeWatchers) watcher(error);
  }

  /**
   * Sends bytes [offset, size) as chunks from a small pool of reused blocks; returns the end offset
   * and the SHA-256 of the file up to it.
   */
  private async streamFile(
    transfer: OutgoingTransfer,
    filePath: string,
    id: string,
    offset: number,
    size: number,
    onProgress: (sentBytes: number) => void,
    resume: ResumeOptions | undefined,
  ): Promise<{ end: number; hash: Hash }> {
    const idBytes = uuidToBytes(id);
    const file = await open(filePath, 'r');
    let hash: Hash;
    try {
      if (resume) {
        // Checked after the receiver's ACCEPT, so that our FILE_CANCEL tells it why, and it drops its part.
        const now = await file.stat();
        if (now.size !== size || now.mtimeMs !== resume.mtimeMs) {
          throw new PeerError(
            `${filePath} changed since the transfer started (${now.size !== size ? `size ${size} → ${now.size} bytes` : 'modified'}): send it again`,
          );
        }
      }
      // FILE_END's SHA-256 covers the whole file: what the receiver already holds is hashed again
      // here, from the nearest point this process kept while it sent the file before, if it did.
      const stats = await file.stat({ bigint: true });
      const kept = offset > 0 ? nearestSentHash(id, offset, stats) : undefined;
      startSentHashes(id, stats);
      hash = kept?.hash ?? createHash('sha256');
      const from = kept?.offset ?? 0;
      const end = await hashFileRange(file, hash, from, offset);
      countReadAgainToHash(end - from);
      if (end < offset) throw new PeerError(`${filePath} shrank while it was being sent (${end} of ${size} bytes)`);
      if (offset > from) keepSentHash(id, offset, hash);
    } catch (error) {
      await file.close();
      throw error;
    }
    const pool = new BlockPool(SEND_BLOCKS, FILE_READ_BYTES);
    const stopOnClose = (error: Error) => {
      pool.fail(error);
      const waiter = transfer.creditWaiter;
      transfer.creditWaiter = undefined;
      waiter?.reject(error);
    };
    // Watched only once the file is open, so a failed open() leaves no watcher behind.
    this.closeWatchers.add(stopOnClose);
    transfer.onFailed = stopOnClose;
    let position = offset;
    let nextPoint = offset + SENT_HASH_POINT_BYTES;
    try {
      while (position < size) {
        if (transfer.failed) throw transfer.failed;
        const block = await pool.acquire();
        this.link.assertOpen();
        if (transfer.failed) throw transfer.failed;
        const { bytesRead } = await file.read(block, 0, Math.min(block.length, size - position), position);
        if (bytesRead === 0) {
          pool.release(block);
          break;
        }
        for (let at = 0; at < bytesRead; at += FILE_CHUNK_BYTES) {
          const data = block.subarray(at, Math.min(at + FILE_CHUNK_BYTES, bytesRead));
          const end = position + at + data.length;
          if (end > transfer.until) await this.credit(transfer, end);
          hash.update(data);
          if (end >= nextPoint) {
            keepSentHash(id, end, hash);
            nextPoint = end + SENT_HASH_POINT_BYTES;
          }
          const last = at + FILE_CHUNK_BYTES >= bytesRead;
          this.writeChunk(idBytes, data, last ? () => pool.release(block) : undefined);
        }
        position += bytesRead;
        onProgress(position);
      }
    } finally {
      this.closeWatchers.delete(stopOnClose);
      transfer.onFailed = undefined;
      await file.close();
    }
    return { end: position, hash };
  }

  /** Resolves once the receiver lets us send up to `needed`; rejects when the transfer or the connection fails. */
  private async credit(transfer: OutgoingTransfer, needed: number): Promise<void> {
    // Ended while the block was read: nothing will resolve or reject the wait any more.
    if (transfer.failed) throw transfer.failed;
    this.link.assertOpen();
    return new Promise((resolve, reject) => { transfer.creditWaiter = { needed, resolve, reject }; });
  }

  /** Header and data go out as two buffers in one writev: the chunk is never copied. */
  private writeChunk(idBytes: Buffer, data: Buffer, flushed?: () => void): void {
    const header = encodeFileChunkHeader(idBytes, data.length);
    const { socket } = this.link;
    socket.cork();
    socket.write(header);
    // The callback runs once the data has left for the kernel (or the socket failed): either way
    // the block may be reused. The kernel taking data means the peer's TCP stack still acknowledges.
    socket.write(data, flushed && (() => {
      this.link.dataTaken();
      flushed();
    }));
    socket.uncork();
  }
}
