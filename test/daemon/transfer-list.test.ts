// `chat transfers cancel` of an incoming transfer: in progress, the session cancels it; with its
// sender away, the partial file goes and its record is marked; once its last byte is in and it is
// being stored, it is too late, and nothing is touched.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { cancelTransfer, TransferFinishingError, type TransferListContext } from '../../src/daemon/transfer-list.ts';
import { PinnedDirectory } from '../../src/files/pinned-directory.ts';
import type { PeerSession } from '../../src/peer/session.ts';
import { TransferReceiver } from '../../src/peer/transfer-receiver.ts';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A downloads directory holding one partial transfer; the context with `session` as the active one. */
async function partialTransfer(session: Partial<PeerSession> | undefined): Promise<{ dir: string; id: string; context: TransferListContext; downloads: PinnedDirectory }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chat-transfer-list-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const dir = path.join(root, 'downloads');
  mkdirSync(dir, { mode: 0o700 });
  const downloads = PinnedDirectory.open(dir, 'the test downloads directory');
  cleanups.push(() => downloads.close());
  const id = randomUUID();
  await writeFile(path.join(dir, `.chat-${id}.state`), JSON.stringify({ id, name: 'a.bin', size: 10, sender: 'ab'.repeat(32), started: Date.now() }), { mode: 0o600 });
  await writeFile(path.join(dir, `.chat-${id}.part`), '12345', { mode: 0o600 });
  const context = {
    transfers: { list: () => [], bytesSent: () => 0, waitingForRoom: () => undefined },
    downloads,
    waitingForRoom: new Map(),
    knownPeers: { list: () => [] },
    session: () => session as PeerSession | undefined,
  } as unknown as TransferListContext;
  return { dir, id, context, downloads };
}

describe('cancelTransfer, incoming', () => {
  test('in progress: the session cancels it', async () => {
    const cancelled: string[] = [];
    const { dir, id, context } = await partialTransfer({ isFinishing: () => false, cancelTransfer: (transfer) => { cancelled.push(transfer); return true; } });
    const summary = await cancelTransfer(context, id, 'cancelled by bob');
    assert.equal(summary?.direction, 'in');
    assert.deepEqual(cancelled, [id]);
    assert.equal((await readdir(dir)).length, 2, 'the session removes the file itself');
  });

  test('its sender away: the partial file goes, its record stays, marked cancelled', async () => {
    const { dir, id, context } = await partialTransfer(undefined);
    assert.equal((await cancelTransfer(context, id, 'cancelled by bob'))?.id, id);
    assert.deepEqual(await readdir(dir), [`.chat-${id}.state`]);
    assert.equal(JSON.parse(await readFile(path.join(dir, `.chat-${id}.state`), 'utf8')).cancelled, true);
  });

  test('being stored (its FILE_END is in): too late, and its files are left alone', async () => {
    const { dir, id, context } = await partialTransfer({ isFinishing: () => true, cancelTransfer: () => assert.fail('not cancelled') });
    await assert.rejects(cancelTransfer(context, id, 'cancelled by bob'), (error) =>
      error instanceof TransferFinishingError && error.message === `transfer ${id} has all its data and is being stored: too late to cancel it (see chat tail)`);
    assert.deepEqual((await readdir(dir)).sort(), [`.chat-${id}.part`, `.chat-${id}.state`]);
  });

  test('still open in a connection that ended (storing it, or closing it): not touched until it is closed', async () => {
    const { dir, id, context, downloads } = await partialTransfer(undefined);
    // The receiver of a connection that is no longer the active one still holds the file.
    const receiver = new TransferReceiver(downloads, id, 'a.bin', 10, 'ab'.repeat(32));
    assert.equal(await receiver.open(), 5, 'it reopened the 5 bytes held');
    await assert.rejects(cancelTransfer(context, id, 'cancelled by bob'), (error) =>
      error instanceof TransferFinishingError && /is closing its partial file after a dropped connection: try again in a moment$/.test(error.message));
    assert.deepEqual((await readdir(dir)).sort(), [`.chat-${id}.part`, `.chat-${id}.state`]);
    await receiver.suspend();
    assert.equal((await cancelTransfer(context, id, 'cancelled by bob'))?.id, id, 'once it is closed');
    assert.deepEqual(await readdir(dir), [`.chat-${id}.state`]);
  });
});
