/** Writes one incoming file: under a hidden temporary name, hashed as it arrives, kept across drops, published only when complete and verified. */
import { createHash, type Hash } from 'node:crypto';
import { unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import { publishWithoutOverwrite, safeFileName } from './file-names.ts';
import { forgetHash, keepHash } from './kept-hashes.ts';
import { OrderedFileWriter } from './ordered-file-writer.ts';
import {
  createPartial, partialNames, readPartialState, reopenPartial, TransferCancelledError, type CompletedTransfer,
} from './partial-file.ts';

export { partialNames, TransferCancelledError, type CompletedTransfer, type PartialState } from './partial-file.ts';

/**
 * Receivers in this process by transfer id: a new connection's offer of a transfer waits for the
 * old connection's receiver of it to close its file, and two live ones never share a file.
 */
const receiversById = new Map<string, TransferReceiver>();

/** A receiver in this process holds transfer `id`'s partial file open (receiving, storing it, or closing it after a drop). */
export function isReceiving(id: string): boolean {
  return receiversById.has(id);
}

export interface ReceivedFile {
  id: string;
  /** Stored by an earlier offer of the same transfer, whose result its sender missed: nothing new was stored. */
  again?: boolean;
  /** The name it was stored under (safe, possibly numbered). */
  name: string;
  path: string;
  size: number;
  sha256: string;
}

/**
 * Writes one incoming file to a hidden temporary name in the downloads directory, hashing as it
 * goes; only a complete file whose size and SHA-256 match is given its final name. The directory
 * is the one held open since the start: before the file is created and before it is named, its
 * path must still lead there (DirectoryChangedError otherwise), and both happen through the held
 * directory, so a link swapped in cannot send the file elsewhere.
 */
export class TransferReceiver {
  readonly id: string;
  readonly expectedSize: number;
  private readonly downloads: PinnedDirectory;
  /** The name the sender offered (the stored name may be cleaned up or numbered). */
  readonly offeredName: string;
  private readonly tempName: string;
  /** Of what the partial file holds, and each chunk as it comes: the SHA-256 that finish() checks. */
  private hash: Hash = createHash('sha256');
  private handle: FileHandle | undefined;
  private received = 0;
  /** Puts the chunks on disk in order, from where the partial file ends; set once it is open. */
  private writer: OrderedFileWriter | undefined;
  private opening: Promise<void> | undefined;
  private aborted = false;
  private readonly sender: string;
  private readonly stateName: string;
  /** Set when this transfer was completed here before: the offer is answered from what its owner remembers. */
  private readonly completed: CompletedTransfer | undefined;
  /** Set once this receiver is letting go of its file (suspend, abort): the next receiver of its id waits for it. */
  private closing: Promise<void> | undefined;
  /** Where the sender may send to (FILE_CREDIT): its owner grants it as the disk keeps up. */
  credit = 0;
  /** Told the bytes on disk (or handed to it) after each write: the sender may then be given more credit. */
  onWritten: ((written: number) => void) | undefined;
  /** Told once when writing or syncing the file has failed (disk full, I/O error): the transfer cannot go on here. */
  onFailed: ((error: Error) => void) | undefined;

  constructor(downloads: PinnedDirectory, id: string, offeredName: string, size: number, sender = '', completed?: CompletedTransfer) {
    this.completed = completed;
    this.downloads = downloads;
    this.id = id;
    this.offeredName = offeredName;
    this.expectedSize = size;
    this.sender = sender;
    const names = partialNames(id);
    this.tempName = names.part;
    this.stateName = names.state;
  }

  get bytesReceived(): number {
    return this.received;
  }

  /**
   * True once open() has created the temporary file, until the file is finished or dropped. The
   * offer is accepted only then (IncomingTransfers), so data for a transfer that is not open is a violation.
   */
  get isOpen(): boolean {
    return (this.handle !== undefined || this.completed !== undefined) && !this.aborted;
  }

  /**
   * Creates the partial file, or reopens the one this sender's earlier connection left for the
   * same transfer; resolves with the offset to continue from: what is on disk, synced.
   */
  open(): Promise<number> {
    const opening = (async () => {
      const previous = receiversById.get(this.id);
      if (previous && previous !== this) {
        if (!previous.closing) throw new Error(`transfer ${this.id} is already in progress on another connection`);
        await previous.closing;
      }
      receiversById.set(this.id, this);
      try {
        await this.downloads.verify();
        const offset = await this.openPartial();
        // The connection may have ended while the file was being created: abort() or suspend()
        // waits for this and then does its part.
        return offset;
      } catch (error) {
        await this.handle?.close().catch(() => undefined);
        this.handle = undefined;
        this.letGo();
        throw error;
      }
    })();
    this.opening = opening.then(() => undefined, () => undefined);
    return opening;
  }

  private async openPartial(): Promise<number> {
    // Stored already: the sender sends nothing more, and FILE_END's hash is checked against the record.
    if (this.completed) return (this.received = this.expectedSize);
    const state = await readPartialState(this.downloads, this.stateName);
    if (state?.cancelled) throw new TransferCancelledError(`transfer ${this.id} was cancelled here`);
    if (state) {
      if (state.sender !== this.sender || state.name !== this.offeredName || state.size !== this.expectedSize) {
        throw new Error(`transfer ${this.id} exists here for another file or sender`);
      }
      const { handle, onDisk, hash } = await reopenPartial(this.downloads, this.id, this.expectedSize);
      this.handle = handle;
      this.hash = hash;
      this.received = onDisk;
      this.startWriting(handle, onDisk);
      return onDisk;
    }
    const handle = await createPartial(this.downloads, { id: this.id, name: this.offeredName, size: this.expectedSize, sender: this.sender, started: Date.now() });
    this.handle = handle;
    this.startWriting(handle, 0);
    return 0;
  }

  private startWriting(handle: FileHandle, position: number): void {
    const writer = new OrderedFileWriter(handle, position);
    writer.onWritten = (written) => this.onWritten?.(written);
    writer.onFailed = (error) => this.onFailed?.(error);
    this.writer = writer;
  }

  /** The connection ended before FILE_END: what is queued goes to disk, synced, and the partial file and its record stay for the next offer. */
  suspend(): Promise<void> {
    return this.keep(false);
  }

  /** Writing failed for want of room (isRoomError): what is on disk is kept, even nothing, for the offer once there is room. */
  hold(): Promise<void> {
    return this.keep(true);
  }

  private keep(afterFailure: boolean): Promise<void> {
    this.aborted = true;
    this.closing ??= (async () => {
      await this.opening;
      await this.writer?.settled();
      // Nothing to continue from: an empty partial file is not kept (offers alone leave nothing).
      if (!afterFailure && ((this.writer?.written ?? 0) === 0 || this.writer?.failure)) {
        await this.discard();
        return;
      }
      if (this.handle) {
        const synced = await this.handle.sync().then(() => true, () => false);
        // Everything hashed is on the disk: resuming in this process need not read it back.
        if (synced && this.writer && !this.writer.failure && this.writer.written === this.received) {
          const stats = await this.handle.stat({ bigint: true }).catch(() => undefined);
          if (stats) keepHash(this.id, this.hash.copy(), this.received, stats);
        }
        await this.handle.close().catch(() => undefined);
        this.handle = undefined;
      }
      this.letGo();
    })();
    return this.closing;
  }

  private letGo(): void {
    if (receiversById.get(this.id) === this) receiversById.delete(this.id);
  }

  /**
   * Queues one chunk for the disk. A write error is told once, through onFailed, and nothing is
   * queued after it (OrderedFileWriter).
   */
  write(data: Buffer): void {
    if (this.received + data.length > this.expectedSize) {
      throw new Error(`more data than the ${this.expectedSize} bytes offered`);
    }
    // Nothing to write (a stored transfer's file is not open: any byte would be past its size).
    if (data.length === 0) return;
    if (!this.writer) throw new Error(`transfer ${this.id} has no file open to write to`);
    if (this.writer.failure) return;
    this.received += data.length;
    this.hash.update(data);
    this.writer.write(data);
  }

  /** Verifies and publishes the file; on any mismatch the temporary file is removed. */
  async finish(expectedSha256: string): Promise<ReceivedFile> {
    if (this.completed) {
      const { sha256, stored } = this.completed;
      this.letGo();
      if (sha256 !== expectedSha256) throw new Error(`SHA-256 mismatch: stored ${sha256}, sender says ${expectedSha256}`);
      return { id: this.id, name: stored, path: this.downloads.shownPath(stored), size: this.expectedSize, sha256, again: true };
    }
    const writer = this.writer;
    if (!writer) throw new Error(`transfer ${this.id} has no file open`);
    await writer.settled();
    if (writer.failure) throw writer.failure;
    if (this.received !== this.expectedSize) throw new Error(`received ${this.received} of ${this.expectedSize} bytes`);
    const sha256 = this.hash.digest('hex');
    if (sha256 !== expectedSha256) throw new Error(`SHA-256 mismatch: got ${sha256}, sender says ${expectedSha256}`);
    await writer.sync();
    await this.handle!.close();
    this.handle = undefined;
    await this.downloads.verify();
    const storedPath = await publishWithoutOverwrite(
      this.downloads.entryPath(this.tempName),
      this.downloads.heldPath,
      safeFileName(this.offeredName),
    );
    const name = path.basename(storedPath);
    await unlink(this.downloads.entryPath(this.stateName)).catch(() => undefined);
    forgetHash(this.id);
    this.letGo();
    return { id: this.id, name, path: this.downloads.shownPath(name), size: this.received, sha256 };
  }

  /** Drops everything received so far, and the record of the transfer. Safe to call more than once. */
  abort(): Promise<void> {
    this.aborted = true;
    const previous = this.closing;
    this.closing = (async () => {
      await previous;
      await this.opening;
      await this.discard();
    })();
    return this.closing;
  }

  private async discard(): Promise<void> {
    await this.writer?.settled();
    if (this.handle) {
      await this.handle.close().catch(() => undefined);
      this.handle = undefined;
    }
    await unlink(this.downloads.entryPath(this.tempName)).catch(() => undefined);
    await unlink(this.downloads.entryPath(this.stateName)).catch(() => undefined);
    forgetHash(this.id);
    this.letGo();
  }
}
