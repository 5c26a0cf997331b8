/**
 * A receiver's partial file of one transfer on disk: its hidden names, the state record kept
 * beside it so that a resumed offer can continue it, and reading back what it already holds.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { writePrivateFile } from '../files/owner-only.ts';
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import { hashFileRange } from './file-hash.ts';
import { countHashedAgain, takeHash } from './kept-hashes.ts';

/**
 * What the receiver keeps beside a partial file, so that the same sender's offer of the same
 * transfer continues it, across drops and restarts.
 */
export interface PartialState {
  id: string;
  name: string;
  size: number;
  /** The sender's key: only the key that started a transfer may continue it. */
  sender: string;
  /** When the transfer started (epoch ms). */
  started: number;
  /** Set when this side cancelled it while its sender was away: the next offer of it is declined. */
  cancelled?: boolean;
}

/** The receiver's user cancelled this transfer (`chat transfers cancel`): an offer of it again is declined. */
export class TransferCancelledError extends Error {
  override name = 'TransferCancelledError';
}

/** Write errors that more room on the disk cures: the partial file is kept for later (ENOSPC, EDQUOT). */
export function isRoomError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * A transfer this side completed before, as its owner remembers it: its sender may have missed
 * the result (it died, the link dropped) and offers it again; it is then answered from this, not
 * sent again nor stored twice.
 */
export interface CompletedTransfer {
  sha256: string;
  /** The name it was stored under. */
  stored: string;
}

/** The hidden names of a transfer's partial file and its state record in the downloads directory. */
export function partialNames(id: string): { part: string; state: string } {
  return { part: `.chat-${id}.part`, state: `.chat-${id}.state` };
}

/** The state record `name` in `downloads`, or undefined when it is missing or unreadable (then the partial file is not trusted). */
export async function readPartialState(downloads: PinnedDirectory, name: string): Promise<PartialState | undefined> {
  let text: string;
  try {
    text = await readFile(downloads.entryPath(name), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as PartialState;
  } catch {
    return undefined;
  }
}

/**
 * Reopens the partial file of transfer `id` that its record vouches for; what is on the disk
 * (synced, at most `size` bytes) is what it holds. The final SHA-256 covers it all: the hash this
 * process kept when it let go of the file continues, if the file is unchanged since
 * (kept-hashes.ts); otherwise what the file holds is read back and hashed into a new one.
 */
export async function reopenPartial(downloads: PinnedDirectory, id: string, size: number): Promise<{ handle: FileHandle; onDisk: number; hash: Hash }> {
  const handle = await open(downloads.entryPath(partialNames(id).part), 'r+');
  try {
    // What a kill -9 left in the page cache is the process's; fsync makes it the disk's.
    await handle.sync();
    const stats = await handle.stat({ bigint: true });
    const onDisk = Math.min(Number(stats.size), size);
    if (stats.size > BigInt(onDisk)) await handle.truncate(onDisk);
    const kept = takeHash(id, onDisk, stats);
    if (kept) return { handle, onDisk, hash: kept };
    const hash = createHash('sha256');
    await hashPrefix(handle, onDisk, hash, id);
    return { handle, onDisk, hash };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** Creates the partial file of a new transfer, and its record beside it (a partial file without one is not trusted: started again). */
export async function createPartial(downloads: PinnedDirectory, record: PartialState): Promise<FileHandle> {
  const { part, state } = partialNames(record.id);
  await unlink(downloads.entryPath(part)).catch(() => undefined);
  const handle = await open(downloads.entryPath(part), 'wx', 0o600);
  writePrivateFile(downloads.entryPath(state), `${JSON.stringify(record)}\n`);
  return handle;
}

/** The final SHA-256 covers the whole file: what an earlier connection wrote (`bytes` of it) is hashed again. */
export async function hashPrefix(handle: FileHandle, bytes: number, hash: Hash, id: string): Promise<void> {
  const end = await hashFileRange(handle, hash, 0, bytes);
  countHashedAgain(end);
  if (end < bytes) throw new Error(`partial file of transfer ${id} shrank while it was read`);
}

/**
 * Not for users: a disk this many bytes a second slow, so that the tests and the bench can show what
 * a slow receiver does to the link (CHATD_TEST_WRITE_BYTES_PER_SECOND). Unset: the disk's own pace.
 */
let testWritePace: number | undefined;

export function slowWritesForTest(bytesPerSecond: number | undefined): void {
  testWritePace = bytesPerSecond;
}

/** writev until every byte is written (regular files rarely write short, but may). */
export async function writeAll(handle: FileHandle, buffers: Buffer[], total: number, position: number): Promise<void> {
  if (testWritePace) await new Promise((resolve) => setTimeout(resolve, (total / testWritePace!) * 1000));
  let written = (await handle.writev(buffers, position)).bytesWritten;
  if (written === total) return;
  const rest = Buffer.concat(buffers).subarray(written);
  while (written < total) {
    const { bytesWritten } = await handle.write(rest, written - (total - rest.length), undefined, position + written);
    written += bytesWritten;
  }
}
