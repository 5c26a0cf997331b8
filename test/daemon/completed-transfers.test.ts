// The completed incoming transfers a receiver remembers: found only for the key that sent them and
// the same size, bounded in number and age, kept across restarts, a damaged file only costs the memory.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { COMPLETED_MAX_AGE_MS, CompletedTransfers, MAX_REMEMBERED_COMPLETED } from '../../src/daemon/completed-transfers.ts';
import type { Logger } from '../../src/daemon/logger.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-completed-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const warnings: string[] = [];
const log = { info: () => undefined, warn: (line: string) => warnings.push(line), error: () => undefined } as unknown as Logger;
const ALICE = 'a'.repeat(64);
const MALLORY = 'b'.repeat(64);

describe('CompletedTransfers', () => {
  test('found for the same id, key and size only; kept across a restart', () => {
    const file = path.join(dir, 'received.json');
    const id = randomUUID();
    new CompletedTransfers(file, log).add({ id, sender: ALICE, size: 10, sha256: 'ab'.repeat(32), stored: 'x.bin', time: Date.now() });
    const again = new CompletedTransfers(file, log);
    assert.deepEqual(again.find(id, ALICE, 10), { sha256: 'ab'.repeat(32), stored: 'x.bin' });
    assert.equal(again.find(id, MALLORY, 10), undefined);
    assert.equal(again.find(id, ALICE, 11), undefined);
    assert.equal(again.find(id, ALICE, 10, Date.now() + COMPLETED_MAX_AGE_MS + 1000), undefined, 'forgotten after the age');
  });

  test(`at most ${MAX_REMEMBERED_COMPLETED}, the newest; a damaged file is warned about and costs only the memory`, () => {
    const file = path.join(dir, 'many.json');
    const store = new CompletedTransfers(file, log);
    const ids = Array.from({ length: MAX_REMEMBERED_COMPLETED + 5 }, () => randomUUID());
    for (const id of ids) store.add({ id, sender: ALICE, size: 1, sha256: 'cd'.repeat(32), stored: 'y', time: Date.now() });
    const reloaded = new CompletedTransfers(file, log);
    assert.equal(reloaded.find(ids[0]!, ALICE, 1), undefined);
    assert.ok(reloaded.find(ids.at(-1)!, ALICE, 1));
    writeFileSync(file, 'not json');
    chmodSync(file, 0o600);
    const damaged = new CompletedTransfers(file, log);
    assert.equal(damaged.find(ids.at(-1)!, ALICE, 1), undefined);
    assert.match(warnings.at(-1) ?? '', /^not using .*many\.json: /);
  });
});
