import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { checkPathChain } from '../../src/files/path-chain.ts';

/** Another user, for the directories that must not belong to one. */
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'chat-path-chain-')));
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A fresh private directory under the test root, with `parts` made below it (0700). */
function fresh(...parts: string[]): string {
  const dir = path.join(root, `case-${++counter}`, ...parts);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

const check = (target: string) => checkPathChain(target, 'the downloads directory');

describe('checkPathChain: no directory on the path may be changed by another user', () => {
  test('a private path under the sticky /tmp passes and resolves to its real path', () => {
    const dir = fresh('a', 'downloads');
    assert.equal(check(dir), dir);
    assert.equal(check(path.join(dir, '..', 'downloads', '.')), dir);
  });

  test('a parent others can write to is refused, naming it, its owner and mode, and the fix', () => {
    const downloads = fresh('open', 'downloads');
    const open = path.dirname(downloads);
    chmodSync(open, 0o777);
    assert.throws(() => check(downloads), (error: Error) => {
      assert.equal(error.name, 'UnsafePathError');
      assert.equal(
        error.message,
        `the downloads directory ${downloads} is not safe: ${open} on its path is writable by other users ` +
          `(owner uid ${process.getuid!()}, mode 0777), who could swap what it holds for a link; ` +
          `fix it with: chmod go-w ${open} (or chmod +t ${open} if others must write there), or use another directory`,
      );
      return true;
    });
    chmodSync(open, 0o775);
    assert.throws(() => check(downloads), /on its path is writable by other users \(owner uid \d+, mode 0775\)/, 'group-writable too');
    chmodSync(open, 0o1777);
    assert.equal(check(downloads), downloads, 'sticky, like /tmp: others cannot move what is ours');
  });

  test('the problem is found however far up it is', () => {
    const downloads = fresh('grand', 'parent', 'downloads');
    const grand = path.dirname(path.dirname(downloads));
    chmodSync(grand, 0o757);
    assert.throws(() => check(downloads), new RegExp(`: ${grand} on its path is writable by other users \\(owner uid \\d+, mode 0757\\)`));
  });

  test('a missing tail is fine under a safe directory, refused under an open one', () => {
    const base = fresh('base');
    assert.equal(check(path.join(base, 'new', 'downloads')), path.join(base, 'new', 'downloads'));
    chmodSync(base, 0o777);
    assert.throws(() => check(path.join(base, 'new', 'downloads')), new RegExp(`${base} on its path is writable`));
    assert.equal(existsSync(path.join(base, 'new')), false, 'the check creates nothing');
  });

  test('links are followed: the real path is checked, and so is every directory holding a link', () => {
    // A safe link to a directory under an open one: the real ancestor is refused.
    const target = fresh('open-target', 'downloads');
    chmodSync(path.dirname(target), 0o777);
    const safe = fresh('safe');
    symlinkSync(path.dirname(target), path.join(safe, 'link'));
    assert.throws(() => check(path.join(safe, 'link', 'downloads')), new RegExp(`${path.dirname(target)} on its path is writable`));
    // A link kept in an open directory, to a safe place: the directory holding the link is refused.
    const good = fresh('good', 'downloads');
    const open = fresh('open-holder');
    chmodSync(open, 0o777);
    symlinkSync(path.dirname(good), path.join(open, 'link'));
    assert.throws(() => check(path.join(open, 'link', 'downloads')), new RegExp(`${open} on its path is writable`));
    // A relative link with "..", resolved as the kernel does.
    const relative = fresh('rel', 'x');
    mkdirSync(path.join(path.dirname(relative), 'downloads'), { mode: 0o700 });
    symlinkSync('../../rel', path.join(relative, 'up'));
    const through = path.join(relative, 'up', 'downloads');
    assert.equal(check(through), path.join(path.dirname(relative), 'downloads'));
    assert.equal(check(through), realpathSync(through));
  });

  test('a loop of links is refused', () => {
    const dir = fresh('loop');
    symlinkSync(path.join(dir, 'b'), path.join(dir, 'a'));
    symlinkSync(path.join(dir, 'a'), path.join(dir, 'b'));
    assert.throws(() => check(path.join(dir, 'a', 'downloads')), /too many symbolic links/);
  });

  test('a directory of another user on the path is refused, at any depth', { skip: !isRoot && 'not root: cannot give a directory away' }, () => {
    const downloads = fresh('theirs', 'mine', 'downloads');
    const mine = path.dirname(downloads);
    const theirs = path.dirname(mine);
    chownSync(mine, NOBODY, NOBODY);
    assert.throws(
      () => check(downloads),
      new RegExp(`: ${mine} on its path belongs to another user \\(uid ${NOBODY}, mode 0700\\), who could swap .*fix it with: chown 0 ${mine} \\(as root\\)`),
    );
    chownSync(mine, 0, 0);
    chownSync(theirs, NOBODY, NOBODY);
    assert.throws(() => check(downloads), new RegExp(`: ${theirs} on its path belongs to another user \\(uid ${NOBODY}`));
    chownSync(theirs, 0, 0);
    assert.equal(check(downloads), downloads);
  });

  test('in a sticky shared directory, a link of another user is refused', { skip: !isRoot && 'not root: cannot give a link away' }, () => {
    const good = fresh('good-sticky', 'downloads');
    const shared = fresh('shared');
    chmodSync(shared, 0o1777);
    const link = path.join(shared, 'link');
    symlinkSync(path.dirname(good), link);
    assert.equal(check(path.join(link, 'downloads')), good, 'our own link there is fine');
    lchownSync(link, NOBODY, NOBODY);
    assert.throws(
      () => check(path.join(link, 'downloads')),
      new RegExp(`: ${link} in the shared directory ${shared} belongs to another user \\(uid ${NOBODY}\\), who could replace it`),
    );
  });
});
