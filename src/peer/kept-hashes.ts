/**
 * The SHA-256 state of partial files this process kept after a drop, so that resuming one in the
 * same process continues its hash instead of reading the whole file back.
 */
import type { BigIntStats } from 'node:fs';
import type { Hash } from 'node:crypto';

/**
 * Hashes kept at most (the oldest goes first). Each is a few hundred bytes; a partial file whose
 * hash is not kept is read back and hashed again when it is resumed, as after a restart.
 */
export const MAX_KEPT_HASHES = 256;

interface KeptHash {
  hash: Hash;
  /** The bytes the hash covers: the whole partial file when it was kept. */
  bytes: number;
  /**
   * Which file, and that it has not changed since: any write, truncation or replacement changes one
   * of them (on kernels before 6.13, one in the same clock tick as the kept stat may not: only the
   * owner can write there, and the hash covers what was received, as it does without a resume).
   */
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

const kept = new Map<string, KeptHash>();

let hashedAgain = 0;

/** Bytes read back from partial files to hash them again, in this process: what a kept hash saves (the tests read it). */
export function bytesHashedAgain(): number {
  return hashedAgain;
}

export function countHashedAgain(bytes: number): void {
  hashedAgain += bytes;
}

/** Keeps `hash`, which covers the first `bytes` of transfer `id`'s partial file, as `stats` (after its last sync) describe it. */
export function keepHash(id: string, hash: Hash, bytes: number, stats: BigIntStats): void {
  kept.delete(id);
  if (stats.size !== BigInt(bytes)) return;
  kept.set(id, { hash, bytes, ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs });
  for (const oldest of kept.keys()) {
    if (kept.size <= MAX_KEPT_HASHES) break;
    kept.delete(oldest);
  }
}

/**
 * The hash kept for transfer `id`, taken (it is given once), when the partial file is still the one
 * it covers, unchanged and `bytes` long; undefined otherwise (the file is then hashed again).
 */
export function takeHash(id: string, bytes: number, stats: BigIntStats): Hash | undefined {
  const entry = kept.get(id);
  kept.delete(id);
  if (!entry || entry.bytes !== bytes) return undefined;
  const same = entry.ino === stats.ino && entry.size === stats.size && entry.mtimeNs === stats.mtimeNs && entry.ctimeNs === stats.ctimeNs;
  return same ? entry.hash : undefined;
}

/** The partial file of `id` is gone or published: its hash is no use any more. */
export function forgetHash(id: string): void {
  kept.delete(id);
}
