// A message is not stuck behind file data when the receiver's disk is slow: the receiver keeps
// reading its socket and holds the sender back with its credit (FILE_CREDIT), so `chat send` both
// ways returns at once while a transfer to a disk of 1 MiB/s runs. Before the credit, the receiver
// stopped reading while its disk lagged, and a message waited behind several MiB in the kernel's
// buffers: seconds at this pace.
import assert from 'node:assert/strict';
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChatHome } from '../helpers/chat.ts';
import { waitFor } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
/** The receiving disk's pace (the daemon's test hook): the file takes a minute, the test far less. */
const SLOW_DISK_BYTES_PER_SECOND = 1 * MiB;
const FILE_BYTES = 64 * MiB;
/**
 * Generous for a CLI start and a delivery on a loaded machine; a message behind the old backlog
 * (the kernel's buffers and 4 MiB unread, at 1 MiB/s) took several times this.
 */
const AT_ONCE_MS = 2_500;

describe('messages during a transfer to a slow disk', { timeout: 120_000 }, () => {
  let home: ChatHome;

  before(async () => {
    home = await ChatHome.create();
    await home.startDaemon('alice');
    const bob = await home.startDaemon('bob', [], { CHATD_TEST_WRITE_BYTES_PER_SECOND: String(SLOW_DISK_BYTES_PER_SECOND) });
    const connected = await home.run(['connect', '--profile', 'alice', String(bob.port)]);
    assert.equal(connected.code, 0, connected.stderr);
  });
  after(() => home.cleanup());

  const incoming = async () =>
    JSON.parse((await home.run(['transfers', '--profile', 'bob', '--json'])).stdout).transfers as Array<{ id: string; bytes: number }>;

  test('chat send both ways returns at once, and the transfer goes on', async () => {
    const source = path.join(home.dir, 'big.bin');
    await writeFile(source, '');
    await truncate(source, FILE_BYTES);
    const started = await home.run(['transfer', '--profile', 'alice', '--no-wait', '--json', source]);
    assert.equal(started.code, 4, started.stderr);
    const { id } = JSON.parse(started.stdout) as { id: string };
    // Bob's disk is the bottleneck once it holds data: the socket buffers are as full as they get.
    await waitFor(async () => (await incoming()).some((transfer) => transfer.id === id && transfer.bytes >= 2 * MiB), 'bob to hold 2 MiB', 30_000);

    for (const [from, to] of [['alice', 'bob'], ['bob', 'alice']] as const) {
      const text = `while the disk lags, ${from} to ${to}`;
      const before = performance.now();
      const sent = await home.run(['send', '--profile', from, text]);
      const elapsed = performance.now() - before;
      assert.equal(sent.code, 0, sent.stderr);
      assert.ok(elapsed < AT_ONCE_MS, `${from} → ${to}: chat send took ${elapsed.toFixed(0)} ms`);
      const tail = await home.run(['tail', '--profile', to, '--no-follow', '--json', '-n', '5']);
      assert.ok(tail.stdout.includes(JSON.stringify(text)), `${to} has it: ${tail.stdout}`);
    }

    // Still going, at the disk's pace: neither finished nor failed.
    const progress = (await incoming()).find((transfer) => transfer.id === id);
    assert.ok(progress && progress.bytes < FILE_BYTES, `the transfer is still running: ${JSON.stringify(progress)}`);
    const cancelled = await home.run(['transfers', 'cancel', '--profile', 'alice', id]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
  });
});
