// The receiving end of one transfer, alone: chunks are queued for the disk without a promise each
// (one flush can last a whole transfer, and reactions on it piled up: the receiver's RSS grew with
// the file's size), and a full disk is told once through onFailed.
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { PinnedDirectory } from '../../src/files/pinned-directory.ts';
import { TransferReceiver } from '../../src/peer/transfer-receiver.ts';

const dirs: string[] = [];
after(async () => { for (const dir of dirs) await rm(dir, { recursive: true, force: true }); });

async function downloads(): Promise<{ dir: string; held: PinnedDirectory }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chat-receiver-'));
  dirs.push(dir);
  return { dir, held: PinnedDirectory.open(dir, 'the test downloads directory') };
}

/** How many promises `work` creates while it runs synchronously. */
function promisesMadeBy(work: () => void): number {
  let made = 0;
  const hook = createHook({ init: (_id, type) => { if (type === 'PROMISE') made++; } }).enable();
  try {
    work();
  } finally {
    hook.disable();
  }
  return made;
}

describe('transfer receiver', () => {
  test('a thousand chunks queue with a bounded number of promises, and the file is whole', async () => {
    const { held } = await downloads();
    const chunks = Array.from({ length: 1000 }, () => randomBytes(1024));
    const whole = Buffer.concat(chunks);
    const receiver = new TransferReceiver(held, randomUUID(), 'many.bin', whole.length, 'ab'.repeat(32));
    assert.equal(await receiver.open(), 0);
    const made = promisesMadeBy(() => { for (const chunk of chunks) receiver.write(chunk); });
    // One flush for all of them (an async function and its awaits); before, every write added a
    // `then` on that flush, which stayed pending as long as the disk had chunks to write.
    assert.ok(made <= 10, `${made} promises for 1,000 chunks`);
    const sha256 = createHash('sha256').update(whole).digest('hex');
    const stored = await receiver.finish(sha256);
    assert.deepEqual(await readFile(stored.path), whole);
  });

  test('a full disk is told once through onFailed, and no chunk is queued after it', async (t) => {
    const { dir: parent } = await downloads();
    const dir = path.join(parent, 'small');
    mkdirSync(dir, { mode: 0o700 });
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir]).status !== 0) {
      t.skip('cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)');
      return;
    }
    t.after(() => { spawnSync('umount', ['-l', dir]); });
    const held = PinnedDirectory.open(dir, 'the 1 MiB downloads directory');
    t.after(() => held.close());
    const size = 3 * 1024 * 1024;
    const receiver = new TransferReceiver(held, randomUUID(), 'big.bin', size, 'ab'.repeat(32));
    await receiver.open();
    const failures: Error[] = [];
    const failed = new Promise<void>((resolve) => { receiver.onFailed = (error) => { failures.push(error); resolve(); }; });
    const chunk = randomBytes(64 * 1024);
    for (let at = 0; at < 2 * 1024 * 1024; at += chunk.length) receiver.write(chunk);
    await failed;
    const before = receiver.bytesReceived;
    receiver.write(chunk);
    assert.equal(receiver.bytesReceived, before, 'the chunk after the failure was not taken');
    await receiver.hold();
    assert.equal(failures.length, 1, 'told once');
    assert.match(failures[0]!.message, /ENOSPC/);
  });

  test('a chunk past the offered size is refused at once', async () => {
    const { held } = await downloads();
    const receiver = new TransferReceiver(held, randomUUID(), 'small.bin', 10, 'ab'.repeat(32));
    await receiver.open();
    assert.throws(() => receiver.write(Buffer.alloc(11)), /more data than the 10 bytes offered/);
  });
});
