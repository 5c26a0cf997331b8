import { createHash, type Hash } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import { publishWithoutOverwrite, safeFileName } from './file-names.ts';

/** Buffers per writev: POSIX guarantees at least 1024 (IOV_MAX). */
const MAX_WRITEV_BUFFERS = 1024;
/**
 * Written bytes after which the receiver asks the disk to catch up in the background, so the
 * fsync before the acknowledgement finds little left to do instead of the whole file.
 */
const BACKGROUND_SYNC_BYTES = 64 * 1024 * 1024;

export interface ReceivedFile {
  id: string;
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
  private readonly offeredName: string;
  private readonly tempName: string;
  private readonly hash: Hash = createHash('sha256');
  private handle: FileHandle | undefined;
  private received = 0;
  /** Chunks not yet on disk, in order; one writer drains them in batches (one writev each). */
  private queue: Buffer[] = [];
  private flushing: Promise<void> | undefined;
  private pendingWriteBytes = 0;
  private failure: Error | undefined;
  private opening: Promise<void> | undefined;
  private unsyncedBytes = 0;
  private backgroundSync: Promise<void> | undefined;
  private aborted = false;

  constructor(downloads: PinnedDirectory, id: string, offeredName: string, size: number) {
    this.downloads = downloads;
    this.id = id;
    this.offeredName = offeredName;
    this.expectedSize = size;
    this.tempName = `.chat-${id}.part`;
  }

  get bytesReceived(): number {
    return this.received;
  }

  /** Bytes handed to write() that are not on disk yet: IncomingTransfers stops reading above a bound. */
  get bufferedBytes(): number {
    return this.pendingWriteBytes;
  }

  /**
   * True once open() has created the temporary file, until the file is finished or dropped. The
   * offer is accepted only then (IncomingTransfers), so data for a transfer that is not open is a violation.
   */
  get isOpen(): boolean {
    return this.handle !== undefined && !this.aborted;
  }

  open(): Promise<void> {
    this.opening ??= (async () => {
      await this.downloads.verify();
      this.handle = await open(this.downloads.entryPath(this.tempName), 'wx', 0o600);
      // The connection may have ended while the file was being created.
      if (this.aborted) await this.discard();
    })();
    return this.opening;
  }

  /** The write error that ended this transfer (disk full, I/O error, quota), if any. */
  get writeFailure(): Error | undefined {
    return this.failure;
  }

  /**
   * Queues one chunk; the promise resolves once the queue (this chunk included) is on disk and
   * rejects with the write error once one has happened: the caller fails the transfer at once.
   */
  write(data: Buffer): Promise<void> {
    if (this.received + data.length > this.expectedSize) {
      return Promise.reject(new Error(`more data than the ${this.expectedSize} bytes offered`));
    }
    // After a failed write nothing is queued any more: a queue nobody drains would hold the
    // connection's reading paused for good (the disk-full hang).
    if (this.failure) return Promise.reject(this.failure);
    this.received += data.length;
    this.hash.update(data);
    this.pendingWriteBytes += data.length;
    this.queue.push(data);
    this.flushing ??= this.flush();
    return this.flushing.then(() => {
      if (this.failure) throw this.failure;
    });
  }

  /**
   * While the disk is busy, chunks pile up and go out together: one system call for many chunks
   * instead of one thread-pool round trip per chunk.
   */
  private async flush(): Promise<void> {
    // Always settle later than the caller's `??=`: a flush that finished synchronously would clear
    // `flushing` before it is assigned, leaving a settled promise that no later chunk restarts.
    await undefined;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_WRITEV_BUFFERS);
      const bytes = batch.reduce((total, buffer) => total + buffer.length, 0);
      try {
        if (!this.failure) {
          await writeAll(this.handle!, batch, bytes);
          this.unsyncedBytes += bytes;
          if (this.unsyncedBytes >= BACKGROUND_SYNC_BYTES && !this.backgroundSync) this.syncInBackground();
        }
      } catch (error) {
        this.failure ??= error as Error;
      } finally {
        this.pendingWriteBytes -= bytes;
      }
    }
    this.flushing = undefined;
  }

  private syncInBackground(): void {
    this.unsyncedBytes = 0;
    const handle = this.handle!;
    this.backgroundSync = handle
      .datasync()
      .catch((error: unknown) => { this.failure ??= error as Error; })
      .finally(() => { this.backgroundSync = undefined; });
  }

  /** Verifies and publishes the file; on any mismatch the temporary file is removed. */
  async finish(expectedSha256: string): Promise<ReceivedFile> {
    await this.flushing;
    if (this.failure) throw this.failure;
    if (this.received !== this.expectedSize) {
      throw new Error(`received ${this.received} of ${this.expectedSize} bytes`);
    }
    const sha256 = this.hash.digest('hex');
    if (sha256 !== expectedSha256) throw new Error(`SHA-256 mismatch: got ${sha256}, sender says ${expectedSha256}`);
    await this.backgroundSync;
    if (this.failure) throw this.failure;
    await this.handle!.sync();
    await this.handle!.close();
    this.handle = undefined;
    await this.downloads.verify();
    const storedPath = await publishWithoutOverwrite(
      this.downloads.entryPath(this.tempName),
      this.downloads.heldPath,
      safeFileName(this.offeredName),
    );
    const name = path.basename(storedPath);
    return { id: this.id, name, path: this.downloads.shownPath(name), size: this.received, sha256 };
  }

  /** Drops everything received so far. Safe to call more than once. */
  async abort(): Promise<void> {
    this.aborted = true;
    await this.opening?.catch(() => undefined);
    await this.discard();
  }

  private async discard(): Promise<void> {
    await this.flushing;
    await this.backgroundSync;
    if (this.handle) {
      await this.handle.close().catch(() => undefined);
      this.handle = undefined;
    }
    await unlink(this.downloads.entryPath(this.tempName)).catch(() => undefined);
  }
}

/** writev until every byte is written (regular files rarely write short, but may). */
async function writeAll(handle: FileHandle, buffers: Buffer[], total: number): Promise<void> {
  let written = (await handle.writev(buffers)).bytesWritten;
  if (written === total) return;
  const rest = Buffer.concat(buffers).subarray(written);
  while (written < total) {
    const { bytesWritten } = await handle.write(rest, written - (total - rest.length));
    written += bytesWritten;
  }
}
