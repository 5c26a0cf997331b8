/** Whether an offered file may be stored: within --max-file-size, and within the downloads volume's free space. */
import { readFileSync, statfsSync, statSync } from 'node:fs';
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import { partialNames, type PartialState } from '../peer/transfer-receiver.ts';
import { formatByteSize } from '../text/sizes.ts';
import type { Logger } from './logger.ts';

/**
 * Room left on the downloads volume beyond an accepted file, for everything else on it: at most
 * this much, and at most FREE_SPACE_RESERVE_SHARE of the volume, so a small volume (a USB stick,
 * a tmpfs) can still receive small files.
 */
export const FREE_SPACE_RESERVE_BYTES = 64 * 1024 * 1024;
/** The share of the volume's size that the reserve never exceeds (see FREE_SPACE_RESERVE_BYTES). */
export const FREE_SPACE_RESERVE_SHARE = 0.05;

/** The reserve kept free on a volume of `volumeBytes`. */
export function freeSpaceReserve(volumeBytes: number): number {
  return Math.min(FREE_SPACE_RESERVE_BYTES, Math.floor(volumeBytes * FREE_SPACE_RESERVE_SHARE));
}

export interface StorageLimits {
  /** Larger file offers are declined (chat daemon start --max-file-size). */
  maxFileSize: number;
  downloads: PinnedDirectory;
}

/**
 * Why a file of `size` bytes cannot be stored, as the decline the sender sees; undefined when it
 * can. `reservedBytes` are promised to transfers still running on this connection.
 */
export function storageProblem(limits: StorageLimits, size: number, reservedBytes: number, log: Logger, alreadyHeld = 0): string | undefined {
  if (size > limits.maxFileSize) {
    return `the file (${formatByteSize(size)}) is larger than the receiver accepts (${formatByteSize(limits.maxFileSize)}, chat daemon start --max-file-size)`;
  }
  let free: number;
  let reserve: number;
  try {
    const volume = statfsSync(limits.downloads.heldPath);
    free = volume.bavail * volume.bsize;
    reserve = freeSpaceReserve(volume.blocks * volume.bsize);
  } catch (error) {
    log.warn(`cannot read the free space of ${limits.downloads.path}: ${(error as Error).message}`);
    return 'the receiver cannot check its downloads directory';
  }
  const available = Math.max(0, free - reservedBytes - reserve);
  if (size - alreadyHeld > available) {
    const needs = alreadyHeld > 0 ? `the rest of the file needs ${formatByteSize(size - alreadyHeld)}` : `the file needs ${formatByteSize(size)}`;
    return `not enough free space on the receiver: ${needs}, ${formatByteSize(available)} available`;
  }
  return undefined;
}

/**
 * What is kept here of transfer `id` from `sender`: its partial file's bytes (a resumed offer
 * needs room for the rest only), or undefined when this side holds no record of it for that key.
 */
export function keptPartial(downloads: PinnedDirectory, id: string, sender: string): { bytes: number; name: string; size: number } | undefined {
  const { part, state } = partialNames(id);
  try {
    const record = JSON.parse(readFileSync(downloads.entryPath(state), 'utf8')) as Partial<PartialState>;
    if (record.sender !== sender || record.cancelled) return undefined;
    return { bytes: Math.max(0, statSync(downloads.entryPath(part)).size), name: String(record.name), size: Number(record.size) };
  } catch {
    return undefined;
  }
}

/** Write errors that say what is wrong with the receiver's disk, as the sender is told them. */
const WRITE_ERROR_WORDS: Record<string, string> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EIO: 'I/O error',
  EROFS: 'read-only file system',
};

/**
 * The reason a transfer failed because writing it failed on `name`'s side, as both sides see it:
 * `disk full on bob's side: 0 B free`.
 */
export function writeFailureReason(error: Error, name: string, downloads: PinnedDirectory): string {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const what = WRITE_ERROR_WORDS[code] ?? `cannot write the file${code ? ` (${code})` : ''}`;
  let free = '';
  try {
    const volume = statfsSync(downloads.heldPath);
    free = `: ${formatByteSize(volume.bavail * volume.bsize)} free`;
  } catch {
    // the reason stands without the free space
  }
  return `${what} on ${name}'s side${free}`;
}
