/** Removes the partial files (and their records) of incoming transfers nobody continued for too long. */
import { readdir, stat, unlink } from 'node:fs/promises';
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import type { Logger } from './logger.ts';

/**
 * A partial file not written for this long is removed, with its record: its sender has not come
 * back to continue it (a week covers a holiday, not a lost laptop). CHATD_TEST_PARTIAL_MAX_AGE_MS
 * shortens it for the tests.
 */
export const PARTIAL_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** How often the downloads directory is looked through for stale partial files. */
export const STALE_PARTIAL_SWEEP_MS = 60 * 60 * 1000;

const PARTIAL_NAME = /^\.chat-[0-9a-f-]{36}\.(part|state)$/;

/** Removes `.chat-ID.part` / `.chat-ID.state` entries last modified more than `maxAgeMs` ago; returns how many. */
export async function removeStalePartials(downloads: PinnedDirectory, maxAgeMs: number, log: Logger, now = Date.now()): Promise<number> {
  let removed = 0;
  let names: string[];
  try {
    names = await readdir(downloads.heldPath);
  } catch (error) {
    log.warn(`cannot look for stale partial files in ${downloads.path}: ${(error as Error).message}`);
    return 0;
  }
  for (const name of names) {
    if (!PARTIAL_NAME.test(name)) continue;
    try {
      const { mtimeMs } = await stat(downloads.entryPath(name));
      if (now - mtimeMs <= maxAgeMs) continue;
      await unlink(downloads.entryPath(name));
      removed++;
    } catch {
      // gone meanwhile, or continued: nothing to do
    }
  }
  if (removed > 0) log.info(`removed ${removed} stale partial file(s) from ${downloads.path}: not continued for ${Math.round(maxAgeMs / 1000)} s`);
  return removed;
}
