// Chunks go to the file in order from the position the writer was given (a resumed transfer
// continues where its partial file ends), each write is reported, and the first failure is told
// once and stops the writing. What waits for the disk is copied into a few reused blocks, so the
// chunks' own buffers are not kept alive by a busy disk.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { OrderedFileWriter } from '../../src/peer/ordered-file-writer.ts';

const dirs: string[] = [];
after(async () => { for (const dir of dirs) await rm(dir, { recursive: true, force: true }); });

async function fileWith(content: Buffer): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chat-writer-'));
  dirs.push(dir);
  const file = path.join(dir, 'part');
  await writeFile(file, content);
  return file;
}

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** A file handle whose writes wait until `release()`, recording what each was given. */
function slowHandle(): { handle: FileHandle; writes: Buffer[][]; release(): void } {
  const writes: Buffer[][] = [];
  const waiting: Array<() => void> = [];
  let released = false;
  const handle = {
    writev: (buffers: Buffer[]) => {
      writes.push(buffers);
      const bytesWritten = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
      return new Promise((resolve) => {
        const done = () => resolve({ bytesWritten, buffers });
        if (released) done();
        else waiting.push(done);
      });
    },
    datasync: async () => undefined,
    sync: async () => undefined,
  } as unknown as FileHandle;
  return { handle, writes, release: () => { released = true; for (const done of waiting.splice(0)) done(); } };
}

describe('ordered file writer', () => {
  test('chunks that wait for a busy disk do not keep their own buffers alive', async () => {
    const { handle, writes, release } = slowHandle();
    const writer = new OrderedFileWriter(handle, 0);
    const expected: Buffer[] = [];
    const alive: Array<WeakRef<Buffer>> = [];
    (() => {
      for (let i = 0; i < 200; i++) {
        const chunk = Buffer.allocUnsafeSlow(16 * 1024).fill(i);
        expected.push(Buffer.from(chunk));
        alive.push(new WeakRef(chunk));
        writer.write(chunk);
      }
    })();
    // The first write is under way (and stays so): the rest wait in blocks.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes.length, 1);
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    const kept = alive.filter((ref) => ref.deref() !== undefined).length;
    assert.equal(kept, 0, `chunk buffers still alive while the disk is busy: ${kept} of 200`);
    release();
    await writer.sync();
    assert.ok(Buffer.concat(writes.flat()).equals(Buffer.concat(expected)), 'the blocks hold the chunks, in order');
    assert.equal(writer.written, 200 * 16 * 1024);
  });

  test('what reaches the disk is what was given, even when the caller reuses its buffer at once', async () => {
    const { handle, writes, release } = slowHandle();
    const writer = new OrderedFileWriter(handle, 0);
    const small = Buffer.alloc(16 * 1024, 1);
    const big = Buffer.alloc(1024 * 1024 + 1, 2);
    writer.write(small);
    writer.write(big);
    small.fill(9);
    big.fill(9);
    release();
    await writer.sync();
    const onDisk = Buffer.concat(writes.flat());
    assert.equal(onDisk.length, small.length + big.length);
    assert.ok(onDisk.subarray(0, small.length).every((byte) => byte === 1), 'the small chunk as given');
    assert.ok(onDisk.subarray(small.length).every((byte) => byte === 2), 'the chunk larger than a block as given');
  });

  test('a long stream is written through a few blocks, used again and again', async () => {
    const { handle, writes, release } = slowHandle();
    release();
    const writer = new OrderedFileWriter(handle, 0);
    const chunk = randomBytes(16 * 1024);
    // 64 MiB, in steps that let the writer catch up now and then (as the sender's credit does).
    for (let step = 0; step < 64; step++) {
      // Each chunk its own buffer, as each comes in its own TLS record.
      for (let i = 0; i < 64; i++) {
        const own = Buffer.allocUnsafeSlow(chunk.length);
        chunk.copy(own);
        writer.write(own);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writer.sync();
    const blocks = new Set(writes.flat().map((buffer) => buffer.buffer));
    assert.ok(writes.length >= 64, `writes: ${writes.length}`);
    assert.ok(blocks.size <= 3, `distinct blocks written from: ${blocks.size}`);
    assert.equal(writer.written, 64 * 64 * 16 * 1024);
  });

  test('continues from its position, in order, and reports each write up to the end', async () => {
    const start = randomBytes(1000);
    const file = await fileWith(start);
    const handle = await open(file, 'r+');
    const writer = new OrderedFileWriter(handle, start.length);
    const reported: number[] = [];
    writer.onWritten = (written) => reported.push(written);
    // Bigger than one batch (1 MiB), in chunks of different sizes.
    const chunks = Array.from({ length: 300 }, (_, i) => randomBytes(1024 + (i % 7) * 4096));
    for (const chunk of chunks) writer.write(chunk);
    await writer.sync();
    await handle.close();
    const total = start.length + chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    assert.ok(reported.length >= 2, `writes reported: ${reported.length}`);
    assert.deepEqual(reported, [...reported].sort((a, b) => a - b), 'positions only grow');
    assert.equal(reported.at(-1), total);
    assert.equal(writer.written, total);
    assert.ok((await readFile(file)).equals(Buffer.concat([start, ...chunks])), 'the file is what was written, after what was there');
  });

  test('the first failure is told once, rejects sync, and nothing is written after it', async () => {
    const file = await fileWith(Buffer.alloc(0));
    const handle = await open(file, 'r');
    const writer = new OrderedFileWriter(handle, 0);
    const failures: Error[] = [];
    const failed = new Promise<void>((resolve) => { writer.onFailed = (error) => { failures.push(error); resolve(); }; });
    writer.onWritten = () => assert.fail('a write to a read-only handle is not reported as written');
    for (let i = 0; i < 10; i++) writer.write(randomBytes(1024));
    await failed;
    writer.write(randomBytes(1024));
    await assert.rejects(writer.sync(), { code: 'EBADF' });
    await handle.close();
    assert.equal(failures.length, 1);
    assert.equal(writer.written, 0);
    assert.equal((await readFile(file)).length, 0);
  });
});
