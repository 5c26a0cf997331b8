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
/**
 * Partial files kept at most, whatever their age: past it the least recently written are removed
 * (a peer that starts transfers and drops the link, again and again, cannot fill the directory).
 */
export const MAX_KEPT_PARTIALS = 64;
/** A partial file written this recently may belong to a transfer under way: never evicted for the count. */
const RECENTLY_WRITTEN_MS = 60 * 1000;

const PARTIAL_NAME = /^\.chat-([0-9a-f-]{36})\.(?:part|state)$/;

/**
 * Removes the `.chat-ID.part` / `.chat-ID.state` pairs last written more than `maxAgeMs` ago, and
 * the least recently written beyond MAX_KEPT_PARTIALS; returns how many files it removed.
 */
export async function removeStalePartials(downloads: PinnedDirectory, maxAgeMs: number, log: Logger, now = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(downloads.heldPath);
  } catch (error) {
    log.warn(`cannot look for stale partial files in ${downloads.path}: ${(error as Error).message}`);
    return 0;
  }
  // One entry per transfer: the latest write of its part or its record.
  const transfers = new Map<string, { names: string[]; mtimeMs: number }>();
  for (const name of names) {
    const match = PARTIAL_NAME.exec(name);
    if (!match) continue;
    let mtimeMs: number;
    try {
      ({ mtimeMs } = await stat(downloads.entryPath(name)));
    } catch {
      continue;
    }
    const entry = transfers.get(match[1]!) ?? { names: [], mtimeMs: 0 };
    entry.names.push(name);
    entry.mtimeMs = Math.max(entry.mtimeMs, mtimeMs);
    transfers.set(match[1]!, entry);
  }
  const newestFirst = [...transfers.values()].sort((a, b) => b.mtimeMs - a.mtimeMs);
  let removed = 0;
  let expired = 0;
  for (const [index, entry] of newestFirst.entries()) {
    const old = now - entry.mtimeMs > maxAgeMs;
    const tooMany = index >= MAX_KEPT_PARTIALS && now - entry.mtimeMs > RECENTLY_WRITTEN_MS;
    if (!old && !tooMany) continue;
    if (old) expired++;
    for (const name of entry.names) {
      try {
        await unlink(downloads.entryPath(name));
        removed++;
      } catch {
        // gone meanwhile: nothing to do
      }
    }
  }
  if (removed > 0) {
    log.info(`removed ${removed} stale partial file(s) from ${downloads.path}: ${expired} transfer(s) not continued for ${Math.round(maxAgeMs / 1000)} s, ${newestFirst.length - MAX_KEPT_PARTIALS > 0 ? `the rest beyond ${MAX_KEPT_PARTIALS} kept` : 'none beyond the count'}`);
  }
  return removed;
}

/**
 * Returns a function that sweeps `downloads` one sweep at a time: a call while a sweep runs asks for
 * one more afterwards (two sweeps at once would each remove half a transfer's files, and the log
 * would count them apart).
 */
export function partialSweeper(downloads: PinnedDirectory, maxAgeMs: number, log: Logger, remove = removeStalePartials): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  const run = async (): Promise<void> => {
    do {
      again = false;
      await remove(downloads, maxAgeMs, log);
    } while (again);
    running = undefined;
  };
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = run();
    return running;
  };
}
