/**
 * The SHA-256 state of files this process was sending, at a few recent points, so that continuing a
 * transfer after a drop hashes the file from the nearest point before the receiver's offset, not from its start.
 */
import type { BigIntStats } from 'node:fs';
import type { Hash } from 'node:crypto';

/** Bytes sent between two kept points. A copy of a SHA-256 state costs about a microsecond and a few hundred bytes. */
export const SENT_HASH_POINT_BYTES = 8 * 1024 * 1024;

/**
 * Points kept per transfer, the most recent ones: a receiver continues from what it holds, which is
 * at most TRANSFER_WINDOW_BYTES (4 MiB) behind what we sent, plus what it had not synced when it was
 * killed; four points reach 24–32 MiB back.
 */
export const SENT_HASH_POINTS = 4;

/** Transfers whose points are kept at most (the one longest unused goes first); beyond it a resume reads from the start. */
export const MAX_SENT_HASH_FILES = 64;

interface SentFileHashes {
  /**
   * Which file, and that it has not changed since: a write(2), truncation or replacement changes one
   * of them. Not a write through a shared mapping to a page already dirty, nor, on kernels before
   * 6.13, a same-size write in the clock tick of the stat (docs/peer-protocol.md, sending a file).
   */
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** Oldest first; each hash covers the file's first `offset` bytes and is never updated (copies are handed out). */
  points: Array<{ offset: number; hash: Hash }>;
}

const kept = new Map<string, SentFileHashes>();

let readAgain = 0;

/** Bytes read from the start side of files again to hash them when transfers continued, in this process (the tests read it). */
export function bytesReadAgainToHash(): number {
  return readAgain;
}

export function countReadAgainToHash(bytes: number): void {
  readAgain += bytes;
}

function sameFile(entry: SentFileHashes, stats: BigIntStats): boolean {
  return entry.ino === stats.ino && entry.size === stats.size && entry.mtimeNs === stats.mtimeNs && entry.ctimeNs === stats.ctimeNs;
}

/**
 * The kept point of transfer `id` nearest at or before `offset`, as a hash of its own to go on
 * with, when the file is still the one `stats` describe; otherwise undefined (hash from the start).
 */
export function nearestSentHash(id: string, offset: number, stats: BigIntStats): { offset: number; hash: Hash } | undefined {
  const entry = kept.get(id);
  if (!entry || !sameFile(entry, stats)) return undefined;
  const point = entry.points.findLast((candidate) => candidate.offset <= offset);
  return point && { offset: point.offset, hash: point.hash.copy() };
}

/**
 * Starts keeping points for transfer `id` of the file `stats` describe. Points of the same file
 * are kept (a resume adds to them); those of a file that changed are dropped.
 */
export function startSentHashes(id: string, stats: BigIntStats): void {
  const entry = kept.get(id);
  kept.delete(id);
  const points = entry && sameFile(entry, stats) ? entry.points : [];
  kept.set(id, { ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs, points });
  for (const oldest of kept.keys()) {
    if (kept.size <= MAX_SENT_HASH_FILES) break;
    kept.delete(oldest);
  }
}

/** Keeps a copy of `hash`, which covers the first `offset` bytes of transfer `id`'s file. */
export function keepSentHash(id: string, offset: number, hash: Hash): void {
  const entry = kept.get(id);
  if (!entry) return;
  const earlier = entry.points.filter((point) => point.offset < offset);
  earlier.push({ offset, hash: hash.copy() });
  entry.points = earlier.slice(-SENT_HASH_POINTS);
}

/** Transfer `id` is complete or given up: its points are no use any more. */
export function forgetSentHashes(id: string): void {
  kept.delete(id);
}
