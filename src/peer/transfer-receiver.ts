import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { publishWithoutOverwrite, safeFileName } from './file-names.ts';

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
 * goes; only a complete file whose size and SHA-256 match is given its final name.
 */
export class TransferReceiver {
  readonly id: string;
  readonly expectedSize: number;
  private readonly downloadsDir: string;
  private readonly offeredName: string;
  private readonly tempPath: string;
  private readonly hash: Hash = createHash('sha256');
  private handle: FileHandle | undefined;
  private received = 0;
  /** Writes are chained so chunks land in order while the socket keeps reading. */
  private writing: Promise<void> = Promise.resolve();
  private pendingWriteBytes = 0;
  private failure: Error | undefined;
  private opening: Promise<void> | undefined;
  private aborted = false;

  constructor(downloadsDir: string, id: string, offeredName: string, size: number) {
    this.downloadsDir = downloadsDir;
    this.id = id;
    this.offeredName = offeredName;
    this.expectedSize = size;
    this.tempPath = path.join(downloadsDir, `.chat-${id}.part`);
  }

  get bytesReceived(): number {
    return this.received;
  }

  /** Bytes handed to write() that are not on disk yet: the session pauses its socket above a bound. */
  get bufferedBytes(): number {
    return this.pendingWriteBytes;
  }

  open(): Promise<void> {
    this.opening ??= (async () => {
      await mkdir(this.downloadsDir, { recursive: true, mode: 0o700 });
      this.handle = await open(this.tempPath, 'wx', 0o600);
      // The connection may have ended while the file was being created.
      if (this.aborted) await this.discard();
    })();
    return this.opening;
  }

  /** Queues one chunk; returns a promise that settles when this chunk is on disk. */
  write(data: Buffer): Promise<void> {
    if (this.received + data.length > this.expectedSize) {
      return Promise.reject(new Error(`more data than the ${this.expectedSize} bytes offered`));
    }
    this.received += data.length;
    this.hash.update(data);
    this.pendingWriteBytes += data.length;
    this.writing = this.writing.then(async () => {
      if (this.failure) return;
      try {
        await this.handle!.write(data, 0, data.length);
      } catch (error) {
        this.failure = error as Error;
      } finally {
        this.pendingWriteBytes -= data.length;
      }
    });
    return this.writing;
  }

  /** Verifies and publishes the file; on any mismatch the temporary file is removed. */
  async finish(expectedSha256: string): Promise<ReceivedFile> {
    await this.writing;
    if (this.failure) throw this.failure;
    if (this.received !== this.expectedSize) {
      throw new Error(`received ${this.received} of ${this.expectedSize} bytes`);
    }
    const sha256 = this.hash.digest('hex');
    if (sha256 !== expectedSha256) throw new Error(`SHA-256 mismatch: got ${sha256}, sender says ${expectedSha256}`);
    await this.handle!.sync();
    await this.handle!.close();
    this.handle = undefined;
    const storedPath = await publishWithoutOverwrite(this.tempPath, this.downloadsDir, safeFileName(this.offeredName));
    return { id: this.id, name: path.basename(storedPath), path: storedPath, size: this.received, sha256 };
  }

  /** Drops everything received so far. Safe to call more than once. */
  async abort(): Promise<void> {
    this.aborted = true;
    await this.opening?.catch(() => undefined);
    await this.discard();
  }

  private async discard(): Promise<void> {
    await this.writing.catch(() => undefined);
    if (this.handle) {
      await this.handle.close().catch(() => undefined);
      this.handle = undefined;
    }
    await unlink(this.tempPath).catch(() => undefined);
  }
}
