import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { checkPrivateFile, prepareOwnedDirectory, writePrivateFile } from '../../src/files/owner-only.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'chat-owner-only-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('owner-only directories and files', () => {
  test('a missing directory is created 0700 whatever the umask', () => {
    const previous = process.umask(0);
    try {
      const dir = path.join(root, 'new', 'nested');
      prepareOwnedDirectory(dir, 'the test directory', { ownerOnly: true });
      assert.equal(statSync(dir).mode & 0o777, 0o700);
    } finally {
      process.umask(previous);
    }
  });

  test('group or world writable is refused; merely readable is tightened when owner-only', () => {
    const dir = path.join(root, 'loose');
    mkdirSync(dir);
    chmodSync(dir, 0o757);
    assert.throws(() => prepareOwnedDirectory(dir, 'the test directory', { ownerOnly: true }), /writable by other users \(mode 0757\)/);
    chmodSync(dir, 0o755);
    prepareOwnedDirectory(dir, 'the test directory', { ownerOnly: false });
    assert.equal(statSync(dir).mode & 0o777, 0o755, 'left alone when it need not be private');
    prepareOwnedDirectory(dir, 'the test directory', { ownerOnly: true });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });

  test('a symbolic link or a file in place of the directory is refused', () => {
    const target = path.join(root, 'target');
    mkdirSync(target);
    const link = path.join(root, 'link');
    symlinkSync(target, link);
    assert.throws(() => prepareOwnedDirectory(link, 'the test directory', { ownerOnly: true }), /symbolic link/);
    const file = path.join(root, 'plain-file');
    writeFileSync(file, '');
    assert.throws(() => prepareOwnedDirectory(file, 'the test directory', { ownerOnly: true }), /EEXIST|not a directory/);
  });

  test('private files are written 0600 and checked', () => {
    const file = path.join(root, 'secret');
    const previous = process.umask(0);
    try {
      writePrivateFile(file, 'one');
      writePrivateFile(file, 'two');
    } finally {
      process.umask(previous);
    }
    assert.equal(statSync(file).mode & 0o777, 0o600);
    checkPrivateFile(file, 'the secret');
    chmodSync(file, 0o604);
    assert.throws(() => checkPrivateFile(file, 'the secret'), /accessible to other users \(mode 0604\)/);
  });

  test('a private write that fails for want of room keeps the old file and leaves no temporary one', (t) => {
    const dir = path.join(root, 'full');
    mkdirSync(dir);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir], { encoding: 'utf8' });
    if (mount.status !== 0) {
      t.skip('cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)');
      return;
    }
    try {
      const file = path.join(dir, 'records.json');
      writePrivateFile(file, 'old');
      assert.throws(() => writePrivateFile(file, 'x'.repeat(256 * 1024)), /ENOSPC/);
      assert.equal(readFileSync(file, 'utf8'), 'old');
      assert.deepEqual(readdirSync(dir), ['records.json']);
    } finally {
      spawnSync('umount', ['-l', dir]);
    }
  });
});
