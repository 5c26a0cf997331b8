/** Whether an offered file may be stored: within --max-file-size, and within the downloads volume's free space. */
import { statfsSync } from 'node:fs';
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import { formatByteSize } from '../text/sizes.ts';
import type { Logger } from './logger.ts';

/** Room left on the downloads volume beyond an accepted file, for everything else on it. */
export const FREE_SPACE_RESERVE_BYTES = 64 * 1024 * 1024;

export interface StorageLimits {
  /** Larger file offers are declined (chat daemon start --max-file-size). */
  maxFileSize: number;
  downloads: PinnedDirectory;
}

/**
 * Why a file of `size` bytes cannot be stored, as the decline the sender sees; undefined when it
 * can. `reservedBytes` are promised to transfers still running on this connection.
 */
export function storageProblem(limits: StorageLimits, size: number, reservedBytes: number, log: Logger): string | undefined {
  if (size > limits.maxFileSize) {
    return `the file (${formatByteSize(size)}) is larger than the receiver accepts (${formatByteSize(limits.maxFileSize)}, chat daemon start --max-file-size)`;
  }
  let free: number;
  try {
    const volume = statfsSync(limits.downloads.heldPath);
    free = volume.bavail * volume.bsize;
  } catch (error) {
    log.warn(`cannot read the free space of ${limits.downloads.path}: ${(error as Error).message}`);
    return 'the receiver cannot check its downloads directory';
  }
  const available = Math.max(0, free - reservedBytes - FREE_SPACE_RESERVE_BYTES);
  if (size > available) {
    return `not enough free space on the receiver: the file needs ${formatByteSize(size)}, ${formatByteSize(available)} available`;
  }
  return undefined;
}
