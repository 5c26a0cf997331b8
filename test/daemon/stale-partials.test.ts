// Partial files nobody continues are removed: those not written for the age limit, and of each
// sender's the least recently written beyond MAX_KEPT_PARTIALS, never one being received.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { PinnedDirectory } from '../../src/files/pinned-directory.ts';
import { MAX_KEPT_PARTIALS, partialSweeper, removeStalePartials } from '../../src/daemon/stale-partials.ts';
import type { Logger } from '../../src/daemon/logger.ts';

const dirs: string[] = [];
after(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

const HOUR = 60 * 60 * 1000;
const lines: string[] = [];
const log = { info: (line: string) => lines.push(line), warn: (line: string) => lines.push(line), error: (line: string) => lines.push(line) } as unknown as Logger;

const ALICE = 'a'.repeat(64);
const MALLORY = 'b'.repeat(64);

/** A partial file and its record naming `sender`, last written `ageMs` ago. */
/** An empty downloads directory of its own, held as the daemon holds it; removed after the tests. */
function freshDownloads(): { dir: string; held: PinnedDirectory } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stale-'));
  dirs.push(dir);
  return { dir, held: PinnedDirectory.open(dir, 'downloads') };
}

function partial(dir: string, ageMs: number, now: number, sender = ALICE): string {
  const id = randomUUID();
  for (const suffix of ['part', 'state']) {
    const file = path.join(dir, `.chat-${id}.${suffix}`);
    writeFileSync(file, suffix === 'state' ? JSON.stringify({ id, name: 'x.bin', size: 10, sender, started: now }) : 'x');
    utimesSync(file, (now - ageMs) / 1000, (now - ageMs) / 1000);
  }
  return id;
}

const idsIn = (dir: string) => new Set(readdirSync(dir).map((name) => name.slice(6, 42)));

describe('removeStalePartials', () => {
  test('removes pairs older than the limit and leaves younger ones and other files', async () => {
    const { dir, held } = freshDownloads();
    const now = Date.now();
    const old = partial(dir, 8 * 24 * HOUR, now);
    const young = partial(dir, HOUR, now);
    writeFileSync(path.join(dir, 'kept.txt'), 'mine');
    assert.equal(await removeStalePartials(held, 7 * 24 * HOUR, log, now), 2);
    assert.deepEqual(readdirSync(dir).sort(), [`.chat-${young}.part`, `.chat-${young}.state`, 'kept.txt'].sort());
    assert.ok(!readdirSync(dir).some((name) => name.includes(old)));
    held.close();
  });

  test(`keeps at most ${MAX_KEPT_PARTIALS} per sender, the most recently written, even of files written a moment ago`, async () => {
    const { dir, held } = freshDownloads();
    const now = Date.now();
    // All within the last few seconds (a peer reconnecting in a loop): the count still holds.
    const byAge = Array.from({ length: MAX_KEPT_PARTIALS + 5 }, (_, i) => partial(dir, i * 10, now));
    await removeStalePartials(held, 7 * 24 * HOUR, log, now, () => false);
    const left = idsIn(dir);
    assert.equal(left.size, MAX_KEPT_PARTIALS);
    for (const id of byAge.slice(0, MAX_KEPT_PARTIALS)) assert.ok(left.has(id), 'the most recently written are kept');
    for (const id of byAge.slice(-5)) assert.ok(!left.has(id), 'the least recently written are removed');
    held.close();
  });

  test("one sender's many partial files never push out another sender's", async () => {
    const { dir, held } = freshDownloads();
    const now = Date.now();
    const alices = [partial(dir, 2 * HOUR, now, ALICE), partial(dir, 3 * HOUR, now, ALICE)];
    const mallorys = Array.from({ length: MAX_KEPT_PARTIALS + 4 }, (_, i) => partial(dir, i * 1000, now, MALLORY));
    await removeStalePartials(held, 7 * 24 * HOUR, log, now, () => false);
    const left = idsIn(dir);
    for (const id of alices) assert.ok(left.has(id), "alice's older files are kept");
    assert.equal(mallorys.filter((id) => left.has(id)).length, MAX_KEPT_PARTIALS, 'mallory keeps only the count');
    for (const id of mallorys.slice(-4)) assert.ok(!left.has(id));
    held.close();
  });

  test('a file being received is never removed for the count', async () => {
    const { dir, held } = freshDownloads();
    const now = Date.now();
    const ids = Array.from({ length: MAX_KEPT_PARTIALS + 3 }, (_, i) => partial(dir, i * 60_000, now));
    const open = new Set(ids.slice(-2));
    await removeStalePartials(held, 7 * 24 * HOUR, log, now, (id) => open.has(id));
    const left = idsIn(dir);
    for (const id of open) assert.ok(left.has(id), 'the open ones stay, however old their last write');
    assert.equal(left.size, MAX_KEPT_PARTIALS + 2);
    assert.ok(!left.has(ids.at(-3)!), 'the least recently written closed one goes');
    held.close();
  });

  test('a sweep asked for while one runs waits for it, then runs once more for all who asked', async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    const release: Array<() => void> = [];
    const remove = async () => {
      calls++;
      most = Math.max(most, ++running);
      await new Promise<void>((resolve) => release.push(resolve));
      running--;
      return 0;
    };
    const sweep = partialSweeper({} as PinnedDirectory, HOUR, log, remove);
    const asked = [sweep(), sweep(), sweep()];
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls, 1, 'one sweep at a time');
    release.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls, 2, 'the later requests share one more sweep');
    release.shift()!();
    await Promise.all(asked);
    assert.equal(most, 1);
    assert.equal(calls, 2);
  });
});
