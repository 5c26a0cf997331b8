/** Removes the partial files (and their records) of incoming transfers nobody continued for too long. */
import { readdir, stat, unlink } from 'node:fs/promises';
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import { readPartialState } from '../peer/partial-file.ts';
import { isReceiving } from '../peer/transfer-receiver.ts';
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
 * Partial files kept at most per sender's key, whatever their age: past it that sender's least
 * recently written are removed (a peer that starts transfers and drops the link, again and again,
 * cannot fill the directory, nor push out another peer's). Only a file being received right now
 * is never removed for the count.
 */
export const MAX_KEPT_PARTIALS = 64;

const PARTIAL_NAME = /^\.chat-([0-9a-f-]{36})\.(?:part|state)$/;

/**
 * Removes the `.chat-ID.part` / `.chat-ID.state` pairs last written more than `maxAgeMs` ago, and
 * of each sender's the least recently written beyond MAX_KEPT_PARTIALS, but none that `receiving`
 * says is open; returns how many files it removed. Pairs without a readable record (no sender)
 * count as one sender of their own.
 */
export async function removeStalePartials(
  downloads: PinnedDirectory, maxAgeMs: number, log: Logger, now = Date.now(), receiving: (id: string) => boolean = isReceiving,
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(downloads.heldPath);
  } catch (error) {
    log.warn(`cannot look for stale partial files in ${downloads.path}: ${(error as Error).message}`);
    return 0;
  }
  // One entry per transfer: the latest write of its part or its record.
  const transfers = new Map<string, { id: string; names: string[]; mtimeMs: number; sender: string }>();
  for (const name of names) {
    const match = PARTIAL_NAME.exec(name);
    if (!match) continue;
    let mtimeMs: number;
    try {
      ({ mtimeMs } = await stat(downloads.entryPath(name)));
    } catch {
      continue;
    }
    const entry = transfers.get(match[1]!) ?? { id: match[1]!, names: [], mtimeMs: 0, sender: '' };
    entry.names.push(name);
    entry.mtimeMs = Math.max(entry.mtimeMs, mtimeMs);
    if (name.endsWith('.state')) entry.sender = (await readPartialState(downloads, name))?.sender ?? '';
    transfers.set(match[1]!, entry);
  }
  const newestFirst = [...transfers.values()].sort((a, b) => b.mtimeMs - a.mtimeMs);
  const keptBySender = new Map<string, number>();
  let removed = 0;
  let expired = 0;
  let beyond = 0;
  for (const entry of newestFirst) {
    if (receiving(entry.id)) continue;
    const old = now - entry.mtimeMs > maxAgeMs;
    const kept = keptBySender.get(entry.sender) ?? 0;
    const tooMany = !old && kept >= MAX_KEPT_PARTIALS;
    if (!old && !tooMany) {
      keptBySender.set(entry.sender, kept + 1);
      continue;
    }
    if (old) expired++;
    else beyond++;
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
    log.info(`removed ${removed} stale partial file(s) from ${downloads.path}: ${expired} transfer(s) not continued for ${Math.round(maxAgeMs / 1000)} s, ${beyond} beyond the ${MAX_KEPT_PARTIALS} kept per sender`);
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
