/** Test data: large random files with their SHA-256, the SHA-256 of a file on disk, and a seeded generator. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

const WRITE_BLOCK_BYTES = 4 * 1024 * 1024;

/** Writes `size` random bytes to `file` in 4 MiB blocks (memory stays flat); resolves with their SHA-256. */
export async function writeRandomFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(file, 'w');
  try {
    for (let written = 0; written < size; written += WRITE_BLOCK_BYTES) {
      const data = randomBytes(Math.min(WRITE_BLOCK_BYTES, size - written));
      hash.update(data);
      await handle.write(data);
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** The SHA-256 of a file, read as a stream. */
export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** mulberry32, a small seeded generator: a failing run can be replayed with its seed. Values in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
