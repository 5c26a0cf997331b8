/** Writes a stream of chunks to an open file in order, in batched writes, asks the disk to catch up in the background, and tells the first error once. */
import type { FileHandle } from 'node:fs/promises';
import { writeAll } from './partial-file.ts';

/** Buffers per writev: POSIX guarantees at least 1024 (IOV_MAX). */
const MAX_WRITEV_BUFFERS = 1024;
/**
 * Bytes per writev at most: each write's end frees the sender's credit for the next (FILE_CREDIT),
 * so one write of the whole window would stop the sender until it is done.
 */
const MAX_WRITE_BATCH_BYTES = 1024 * 1024;
/**
 * Written bytes after which the disk is asked to catch up in the background: the fsync before the result finds little left to do,
 * and a history commit (which on ext4 waits for the file's dirty pages too) waits behind at most this much: 16 MiB, not 64,
 * halved a message's p90 during a transfer at the same speed (docs/benchmarks.md, "What was changed to get here").
 */
const BACKGROUND_SYNC_BYTES = 16 * 1024 * 1024;

/**
 * One writer drains the queue, a batch (one writev) at a time, from the position it was given.
 * No promise per chunk: while the disk stays busy one flush runs for the whole transfer, and a
 * reaction per chunk on it held ~100 bytes a chunk until the queue ran dry.
 */
export class OrderedFileWriter {
  private readonly handle: FileHandle;
  /** Bytes on disk (or being written): the position of the next write. */
  private position: number;
  /** Chunks not yet on disk, in order. */
  private queue: Buffer[] = [];
  private flushing: Promise<void> | undefined;
  private backgroundSync: Promise<void> | undefined;
  private unsyncedBytes = 0;
  private error: Error | undefined;
  private errorReported = false;
  /** Told the bytes on disk after each write. */
  onWritten: ((written: number) => void) | undefined;
  /** Told once when writing or syncing has failed (disk full, I/O error): nothing more is written. */
  onFailed: ((error: Error) => void) | undefined;

  constructor(handle: FileHandle, position: number) {
    this.handle = handle;
    this.position = position;
  }

  /** Bytes written so far, counting from the start of the file. */
  get written(): number {
    return this.position;
  }

  /** The first write or sync error, if any. */
  get failure(): Error | undefined {
    return this.error;
  }

  /**
   * Queues one chunk. After a failure nothing is queued any more: a queue nobody drains would hold
   * its chunks for good (and, before FILE_CREDIT, the connection's reading paused: the disk-full hang).
   */
  write(data: Buffer): void {
    if (this.error) return;
    this.queue.push(data);
    this.flushing ??= this.flush();
  }

  /** Settles once everything queued is written (or has failed) and no background sync is running; never rejects. */
  async settled(): Promise<void> {
    await this.flushing;
    await this.backgroundSync;
  }

  /** Everything queued, on disk and synced: rejects with the first failure. */
  async sync(): Promise<void> {
    await this.settled();
    if (this.error) throw this.error;
    await this.handle.sync();
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
      let count = 0;
      let bytes = 0;
      while (count < this.queue.length && count < MAX_WRITEV_BUFFERS && bytes < MAX_WRITE_BATCH_BYTES) bytes += this.queue[count++]!.length;
      const batch = this.queue.splice(0, count);
      try {
        if (!this.error) {
          await writeAll(this.handle, batch, bytes, this.position);
          this.position += bytes;
          this.unsyncedBytes += bytes;
          if (this.unsyncedBytes >= BACKGROUND_SYNC_BYTES && !this.backgroundSync) this.syncInBackground();
        }
      } catch (error) {
        this.error ??= error as Error;
      }
      if (!this.error) this.onWritten?.(this.position);
    }
    this.flushing = undefined;
    this.reportFailure();
  }

  private syncInBackground(): void {
    this.unsyncedBytes = 0;
    this.backgroundSync = this.handle
      .datasync()
      .catch((error: unknown) => {
        this.error ??= error as Error;
        this.reportFailure();
      })
      .finally(() => { this.backgroundSync = undefined; });
  }

  /** Tells onFailed of the first write or sync error, once. */
  private reportFailure(): void {
    if (!this.error || this.errorReported) return;
    this.errorReported = true;
    this.onFailed?.(this.error);
  }
}
