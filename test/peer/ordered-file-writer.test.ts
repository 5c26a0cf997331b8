// Chunks go to the file in order from the position the writer was given (a resumed transfer
// continues where its partial file ends), each write is reported, and the first failure is told
// once and stops the writing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
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

describe('ordered file writer', () => {
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
