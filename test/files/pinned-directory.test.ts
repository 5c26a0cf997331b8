import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DirectoryChangedError, PinnedDirectory } from '../../src/files/pinned-directory.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'chat-pinned-'));
after(() => rmSync(root, { recursive: true, force: true }));
const onLinux = process.platform === 'linux' && existsSync('/proc/self/fd');

let counter = 0;
/** A held directory, a place it can be moved to, and a directory a link can point at. */
function setUp(): { dir: string; moved: string; elsewhere: string; held: PinnedDirectory } {
  const base = path.join(root, `case-${++counter}`);
  const dir = path.join(base, 'downloads');
  const elsewhere = path.join(base, 'elsewhere');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(elsewhere, { mode: 0o700 });
  const held = PinnedDirectory.open(dir, 'the downloads directory');
  after(() => held.close());
  return { dir, moved: path.join(base, 'moved'), elsewhere, held };
}

async function create(file: string): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  await handle.close();
}

describe('PinnedDirectory', () => {
  test('an unchanged directory verifies, and names shown to people are under its path', async () => {
    const { dir, held } = setUp();
    await held.verify();
    assert.equal(held.shownPath('a.txt'), path.join(dir, 'a.txt'));
    assert.equal(held.raceFree, onLinux, 'entries go through /proc/self/fd on Linux');
    await create(held.entryPath('a.txt'));
    assert.deepEqual(readdirSync(dir), ['a.txt']);
  });

  test('swapped for a link: verify refuses, and a file made through the held directory lands in the original', async (t) => {
    const { dir, moved, elsewhere, held } = setUp();
    renameSync(dir, moved);
    symlinkSync(elsewhere, dir);
    await assert.rejects(held.verify(), (error: unknown) => {
      assert.ok(error instanceof DirectoryChangedError);
      assert.equal(
        error.message,
        `the downloads directory ${dir} changed since chatd started: it is now a symbolic link; nothing is written there until chatd is restarted`,
      );
      return true;
    });
    if (!held.raceFree) {
      t.diagnostic('no /proc/self/fd: entries are reached by the path, verify() is the only guard');
      return;
    }
    // What a swap between verify() and the open would do: nothing reaches the link's target.
    await create(held.entryPath('.chat-x.part'));
    assert.deepEqual(readdirSync(elsewhere), []);
    assert.deepEqual(readdirSync(moved), ['.chat-x.part']);
  });

  test('another real directory in its place, a file, or nothing: each is refused', async () => {
    const { dir, moved, held } = setUp();
    renameSync(dir, moved);
    mkdirSync(dir, { mode: 0o700 });
    await assert.rejects(held.verify(), /changed since chatd started: it is now another directory \(device \d+ inode \d+, was device \d+ inode \d+\)/);
    rmSync(dir, { recursive: true });
    writeFileSync(dir, '');
    await assert.rejects(held.verify(), /it is no longer a directory/);
    rmSync(dir);
    await assert.rejects(held.verify(), /it is gone \(ENOENT\)/);
    renameSync(moved, dir);
    await held.verify();
  });

  test('a link or a file is not opened', () => {
    const { dir, elsewhere } = setUp();
    const link = path.join(path.dirname(dir), 'link');
    symlinkSync(elsewhere, link);
    assert.throws(() => PinnedDirectory.open(link, 'the downloads directory'), /the downloads directory .*link is not a directory/);
    const file = path.join(path.dirname(dir), 'file');
    writeFileSync(file, '');
    assert.throws(() => PinnedDirectory.open(file, 'the downloads directory'), /is not a directory/);
  });
});
