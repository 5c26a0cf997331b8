// The free-space check: the reserve scales with the volume, and a transfer offered again needs
// room only for what its partial file does not hold yet.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { PinnedDirectory } from '../../src/files/pinned-directory.ts';
import { FREE_SPACE_RESERVE_BYTES, freeSpaceReserve, keptPartial, storageProblem } from '../../src/daemon/storage-check.ts';
import type { Logger } from '../../src/daemon/logger.ts';

const MiB = 1024 * 1024;
const log = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
const dir = mkdtempSync(path.join(os.tmpdir(), 'storage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('storage check', () => {
  test('the reserve is 5 % of a small volume and 64 MiB of a large one', () => {
    assert.equal(freeSpaceReserve(8 * MiB), Math.floor(8 * MiB * 0.05));
    assert.equal(freeSpaceReserve(100 * 1024 * MiB), FREE_SPACE_RESERVE_BYTES);
  });

  test('an offer of what the partial file already holds plus a little is accepted where the whole would not be', () => {
    const downloads = PinnedDirectory.open(dir, 'downloads');
    const volume = statfsSync(dir);
    const available = volume.bavail * volume.bsize - freeSpaceReserve(volume.blocks * volume.bsize);
    const size = available + 8 * MiB;
    const limits = { maxFileSize: Number.MAX_SAFE_INTEGER, downloads };
    assert.match(storageProblem(limits, size, 0, log) ?? '', /^not enough free space on the receiver: the file needs /);
    // Other processes may use a little of the volume meanwhile: 64 MiB held leaves a wide margin.
    assert.equal(storageProblem(limits, size, 0, log, 64 * MiB), undefined);
    assert.match(storageProblem(limits, size + 128 * MiB, 0, log, 64 * MiB) ?? '', /: the rest of the file needs /);
    const id = '5f0c8a52-8a47-4b1e-9d61-2f1c3c1b7e01';
    const sender = 'ab'.repeat(32);
    assert.equal(keptPartial(downloads, id, sender), undefined);
    writeFileSync(path.join(dir, `.chat-${id}.part`), Buffer.alloc(1234));
    // A partial file without its record is not kept for anyone; with it, only for the key that started it.
    assert.equal(keptPartial(downloads, id, sender), undefined);
    writeFileSync(path.join(dir, `.chat-${id}.state`), JSON.stringify({ id, name: 'a', size: 9999, sender, started: 1 }));
    assert.deepEqual(keptPartial(downloads, id, sender), { bytes: 1234, name: "a", size: 9999 });
    assert.equal(keptPartial(downloads, id, 'cd'.repeat(32)), undefined);
    downloads.close();
  });
});
