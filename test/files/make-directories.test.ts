// Creating a directory and its parents: a file in the way and a file system that refuses are one clear error, at once.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { makeDirectories } from '../../src/files/make-directories.ts';

const MODULE = new URL('../../src/files/make-directories.ts', import.meta.url).href;

const root = mkdtempSync(path.join(os.tmpdir(), 'chat-make-directories-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('makeDirectories', () => {
  test('creates the missing parents with the mode; an existing directory is fine', () => {
    const dir = path.join(root, 'a', 'b', 'c');
    assert.equal(makeDirectories(dir, 0o700, 'the test directory'), true);
    assert.ok(statSync(dir).isDirectory());
    assert.equal(makeDirectories(dir, 0o700, 'the test directory'), false);
  });

  test('a file where the directory should be, or on its path, is named', () => {
    const file = path.join(root, 'a-file');
    writeFileSync(file, 'x');
    assert.throws(() => makeDirectories(file, 0o700, 'the downloads directory'), {
      name: 'DirectoryCreateError',
      message: `the downloads directory ${file} is a file, not a directory`,
    });
    assert.throws(() => makeDirectories(path.join(file, 'sub'), 0o700, 'the downloads directory'), {
      message: `cannot create the downloads directory ${file}/sub: ${file} is a file, not a directory`,
    });
  });

  test('/proc/nope fails at once (Node\'s recursive mkdir loops on it forever)', { skip: process.platform !== 'linux' }, () => {
    // In a child with a time limit: a loop in this process would hang the test instead of failing it.
    const script = `import { makeDirectories } from ${JSON.stringify(MODULE)};
      try { makeDirectories('/proc/nope/deeper', 0o700, 'the downloads directory'); } catch (error) { process.stdout.write(error.name + ': ' + error.message); }`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(run.signal, null, 'finished, did not hang');
    assert.equal(run.stdout, 'DirectoryCreateError: cannot create the downloads directory /proc/nope/deeper (at /proc/nope): that file system does not allow new directories there (ENOENT)');
  });
});
