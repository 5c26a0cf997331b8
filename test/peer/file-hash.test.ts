import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashFileRange } from '../../src/peer/file-hash.ts';

describe('hashFileRange', { timeout: 30_000 }, () => {
  let dir: string;
  // Larger than one read (1 MiB), and not a multiple of it.
  const content = randomBytes(2.5 * 1024 * 1024 + 7);

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'chat-file-hash-'));
    await writeFile(path.join(dir, 'f'), content);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function hashOf(from: number, to: number): Promise<{ end: number; hex: string }> {
    const handle = await open(path.join(dir, 'f'), 'r');
    try {
      const hash = createHash('sha256');
      const end = await hashFileRange(handle, hash, from, to);
      return { end, hex: hash.digest('hex') };
    } finally {
      await handle.close();
    }
  }

  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

  test('a range across several reads hashes exactly those bytes', async () => {
    for (const [from, to] of [[0, content.length], [1, content.length - 1], [1024 * 1024 - 3, 2 * 1024 * 1024 + 5], [10, 11]] as const) {
      assert.deepEqual(await hashOf(from, to), { end: to, hex: sha256(content.subarray(from, to)) }, `${from}-${to}`);
    }
  });

  test('an empty range reads nothing', async () => {
    assert.deepEqual(await hashOf(5, 5), { end: 5, hex: sha256(Buffer.alloc(0)) });
  });

  test('a file shorter than the range: where it ended, with the bytes up to there hashed', async () => {
    assert.deepEqual(await hashOf(100, content.length + 4096), { end: content.length, hex: sha256(content.subarray(100)) });
  });
});
