// The receiving end of one transfer, alone: chunks are queued for the disk without a promise each
// (one flush can last a whole transfer, and reactions on it piled up: the receiver's RSS grew with
// the file's size), a full disk is told once through onFailed, and a resume in the same process
// continues the hash it kept unless the partial file changed since.
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { PinnedDirectory } from '../../src/files/pinned-directory.ts';
import { bytesHashedAgain, forgetHash, MAX_KEPT_HASHES } from '../../src/peer/kept-hashes.ts';
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

describe('resuming in the same process', () => {
  const sender = 'cd'.repeat(32);
  /** A receiver of `whole` that took its first `half` bytes and was suspended (the link dropped). */
  async function suspendedHalfway(held: PinnedDirectory, id: string, whole: Buffer, half: number): Promise<void> {
    const first = new TransferReceiver(held, id, 'resumed.bin', whole.length, sender);
    assert.equal(await first.open(), 0);
    first.write(whole.subarray(0, half));
    await first.suspend();
  }

  test('continues the hash it kept: what the partial file holds is not read back, and the file verifies', async () => {
    const { held } = await downloads();
    const whole = randomBytes(3 * 1024 * 1024 + 17);
    const half = 2 * 1024 * 1024 + 5;
    const id = randomUUID();
    await suspendedHalfway(held, id, whole, half);
    const before = bytesHashedAgain();
    const second = new TransferReceiver(held, id, 'resumed.bin', whole.length, sender);
    assert.equal(await second.open(), half);
    assert.equal(bytesHashedAgain() - before, 0, 'nothing read back');
    second.write(whole.subarray(half));
    const stored = await second.finish(createHash('sha256').update(whole).digest('hex'));
    assert.deepEqual(await readFile(stored.path), whole);
  });

  test('a partial file changed after it was kept is read back and hashed again, so a changed byte fails verification', async () => {
    const { dir, held } = await downloads();
    const whole = randomBytes(1024 * 1024);
    const half = 600_000;
    const id = randomUUID();
    await suspendedHalfway(held, id, whole, half);
    // The same size, one byte different: only the file's times tell. Kernels before 6.13 stamp
    // them from a clock of one tick (up to 10 ms), so the write comes a tick after the kept stat.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const file = path.join(dir, `.chat-${id}.part`);
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from([whole[10]! ^ 0xff]), 0, 1, 10);
    await handle.close();
    const before = bytesHashedAgain();
    const second = new TransferReceiver(held, id, 'resumed.bin', whole.length, sender);
    assert.equal(await second.open(), half);
    assert.equal(bytesHashedAgain() - before, half, 'read back whole');
    second.write(whole.subarray(half));
    await assert.rejects(second.finish(createHash('sha256').update(whole).digest('hex')), /SHA-256 mismatch/);
  });

  test('without a kept hash (as after a restart) the partial file is read back, and the file verifies', async () => {
    const { held } = await downloads();
    const whole = randomBytes(1024 * 1024);
    const half = 400_000;
    const id = randomUUID();
    await suspendedHalfway(held, id, whole, half);
    forgetHash(id);
    const before = bytesHashedAgain();
    const second = new TransferReceiver(held, id, 'resumed.bin', whole.length, sender);
    assert.equal(await second.open(), half);
    assert.equal(bytesHashedAgain() - before, half);
    second.write(whole.subarray(half));
    const stored = await second.finish(createHash('sha256').update(whole).digest('hex'));
    assert.deepEqual(await readFile(stored.path), whole);
  });

  test('at most MAX_KEPT_HASHES are kept: the oldest is read back again', async () => {
    const { held } = await downloads();
    const whole = randomBytes(64);
    const ids = Array.from({ length: MAX_KEPT_HASHES + 1 }, () => randomUUID());
    for (const id of ids) await suspendedHalfway(held, id, whole, 32);
    for (const [id, expected] of [[ids[0]!, 32], [ids[1]!, 0], [ids.at(-1)!, 0]] as const) {
      const before = bytesHashedAgain();
      const again = new TransferReceiver(held, id, 'resumed.bin', whole.length, sender);
      assert.equal(await again.open(), 32);
      assert.equal(bytesHashedAgain() - before, expected, `transfer ${ids.indexOf(id)}`);
      await again.abort();
    }
  });
});
