/** Feeds a byte range of an open file into a hash state in reused reads: what continuing a transfer hashes again, on either side. */
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** Bytes read at once. */
const READ_BYTES = 1024 * 1024;

/**
 * Hashes bytes `from` to `to` of `handle` into `hash`. Resolves with the position where the file
 * ended when it is shorter than `to` (it shrank), or `to` when every byte was read.
 */
export async function hashFileRange(handle: FileHandle, hash: Hash, from: number, to: number): Promise<number> {
  if (to <= from) return to;
  const block = Buffer.allocUnsafe(Math.min(READ_BYTES, to - from));
  for (let position = from; position < to;) {
    const { bytesRead } = await handle.read(block, 0, Math.min(block.length, to - position), position);
    if (bytesRead === 0) return position;
    hash.update(block.subarray(0, bytesRead));
    position += bytesRead;
  }
  return to;
}
