// Where the baseline pipes write what they receive: a plain fs write stream, or with `durable` one
// that also starts writeback in the background every 16 MiB and fsyncs before it finishes, as
// chat's receiver does (src/peer/ordered-file-writer.ts), so the pipes "with fsync" are durable the
// way chat is, the faster way, not a pipe with one fsync of a whole GiB at the end (2026-12-07,
// 1 GiB on disk, 3 s idle before each, five runs each, alternating: the TCP pipe 380-489 MiB/s
// with one fsync at the end, 402-663 with this; the TLS pipe 563-697 and 632-760).
import { createWriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/** Bytes gathered per write call at most: what the socket delivers goes out in a few large writev calls. */
export const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;
/** Written bytes after which writeback starts in the background: chat's BACKGROUND_SYNC_BYTES. */
const BACKGROUND_SYNC_BYTES = 16 * 1024 * 1024;

/** A stream into `destination`; with `durable` it finishes only once the file is on disk. */
export function fileSink(destination: string, durable: boolean): Writable {
  return durable ? new DurableFileSink(destination) : createWriteStream(destination, { highWaterMark: WRITE_BUFFER_BYTES });
}

class DurableFileSink extends Writable {
  private readonly destination: string;
  private handle: FileHandle | undefined;
  private position = 0;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(destination: string) {
    super({ highWaterMark: WRITE_BUFFER_BYTES });
    this.destination = destination;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.destination, 'w').then((handle) => { this.handle = handle; callback(); }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.writeAll(chunks.map(({ chunk }) => chunk)).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    (async () => {
      await this.syncing;
      if (this.failure) throw this.failure;
      await this.handle!.sync();
    })().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    Promise.resolve(this.syncing)
      .then(() => this.handle?.close())
      .then(() => callback(error), () => callback(error));
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    if (this.failure) throw this.failure;
    let pending = buffers;
    while (pending.length > 0) {
      const { bytesWritten } = await this.handle!.writev(pending, this.position);
      this.position += bytesWritten;
      this.unsynced += bytesWritten;
      pending = rest(pending, bytesWritten);
    }
    if (this.unsynced >= BACKGROUND_SYNC_BYTES && !this.syncing) {
      this.unsynced = 0;
      this.syncing = this.handle!.datasync()
        .catch((error: unknown) => { this.failure ??= error as Error; })
        .finally(() => { this.syncing = undefined; });
    }
  }
}

/** What of `buffers` is left after the first `written` bytes of them. */
function rest(buffers: Buffer[], written: number): Buffer[] {
  const left: Buffer[] = [];
  for (const buffer of buffers) {
    if (written >= buffer.length) {
      written -= buffer.length;
      continue;
    }
    left.push(written > 0 ? buffer.subarray(written) : buffer);
    written = 0;
  }
  return left;
}
