/** Writes a stream of chunks to an open file in order, gathered into reused blocks, asks the disk to catch up in the background, and tells the first error once. */
import type { FileHandle } from 'node:fs/promises';
import { writeAll } from './partial-file.ts';

/**
 * Bytes per write at most, the size of a block: each write's end frees the sender's credit for the
 * next (FILE_CREDIT), so one write of the whole window would stop the sender until it is done.
 */
const BLOCK_BYTES = 1024 * 1024;
/**
 * Written bytes after which the disk is asked to catch up in the background: the fsync before the result finds little left to do,
 * and a history commit (which on ext4 waits for the file's dirty pages too) waits behind at most this much: 16 MiB, not 64,
 * halved a message's p90 during a transfer at the same speed (docs/benchmarks.md, "What was changed to get here").
 */
export const BACKGROUND_SYNC_BYTES = 16 * 1024 * 1024;

/** Part of a block waiting for the disk: its first `length` bytes. */
interface Filled {
  block: Buffer;
  length: number;
}

/**
 * Each chunk is copied into a block as it comes, and one writer drains the blocks in order, one
 * write each, from the position it was given; a written block is filled again. So a chunk's own
 * buffer (the TLS record it came in) dies young, and what waits for the disk is a few reused
 * blocks: queued chunks outlived V8's scavenges, and their buffers piled up until a full
 * collection (the receiver's RSS rose 10-16 MiB over 4 GiB). No promise per chunk either: while
 * the disk stays busy one flush runs for the whole transfer, and a reaction per chunk on it held
 * ~100 bytes a chunk until the queue ran dry.
 */
export class OrderedFileWriter {
  private readonly handle: FileHandle;
  /** Bytes on disk (or being written): the position of the next write. */
  private position: number;
  /** Blocks not yet on disk, in order; the last one may still be filling. */
  private queue: Filled[] = [];
  /** The block chunks are copied into now (the queue's last), until it is full or being written. */
  private filling: Filled | undefined;
  /** Written blocks, to be filled again. */
  private readonly spare: Buffer[] = [];
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
   * Queues a copy of one chunk: the caller may reuse `data` at once. After a failure nothing is
   * queued any more: a queue nobody drains would hold its chunks for good (and, before FILE_CREDIT,
   * the connection's reading paused: the disk-full hang).
   */
  write(data: Buffer): void {
    if (this.error) return;
    if (data.length > BLOCK_BYTES) {
      // Larger than a block (a peer's chunk is one TLS record at most): a copy of its own.
      this.filling = undefined;
      this.queue.push({ block: Buffer.from(data), length: data.length });
    } else {
      let filling = this.filling;
      if (!filling || filling.length + data.length > BLOCK_BYTES) {
        filling = this.filling = { block: this.spare.pop() ?? Buffer.allocUnsafeSlow(BLOCK_BYTES), length: 0 };
        this.queue.push(filling);
      }
      filling.length += data.copy(filling.block, filling.length);
    }
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
   * While the disk is busy, chunks pile up in a block and go out together: one system call for
   * many chunks instead of one thread-pool round trip per chunk.
   */
  private async flush(): Promise<void> {
    // Always settle later than the caller's `??=`: a flush that finished synchronously would clear
    // `flushing` before it is assigned, leaving a settled promise that no later chunk restarts.
    await undefined;
    while (this.queue.length > 0) {
      const next = this.queue.shift()!;
      // Chunks that come while it is written go to the next block.
      if (next === this.filling) this.filling = undefined;
      const bytes = next.length;
      try {
        if (!this.error) {
          await writeAll(this.handle, [next.block.subarray(0, bytes)], bytes, this.position);
          this.position += bytes;
          this.unsyncedBytes += bytes;
          if (this.unsyncedBytes >= BACKGROUND_SYNC_BYTES && !this.backgroundSync) this.syncInBackground();
        }
      } catch (error) {
        this.error ??= error as Error;
      }
      if (next.block.length === BLOCK_BYTES) this.spare.push(next.block);
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
