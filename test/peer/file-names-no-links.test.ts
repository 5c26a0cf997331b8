/**
 * publishWithoutOverwrite on a file system without hard links (FAT, exFAT and some network file
 * systems answer link(2) with EPERM): it reserves the name with an exclusive create and renames
 * over its own placeholder. node:fs/promises' link is replaced for this file's process only
 * (module mocks: package.json's test script runs node --test with --experimental-test-module-mocks).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, mock, test } from 'node:test';

let linkCalls = 0;
mock.module('node:fs/promises', {
  exports: {
    ...fs,
    link: async (existing: string, newPath: string) => {
      linkCalls++;
      throw Object.assign(new Error(`EPERM: operation not permitted, link '${existing}' -> '${newPath}'`), { code: 'EPERM', syscall: 'link' });
    },
  },
});
const { numberedName, publishWithoutOverwrite } = await import('../../src/peer/file-names.ts');

describe('publishWithoutOverwrite without hard links', { timeout: 30_000 }, () => {
  let root: string;
  let tempCounter = 0;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'chat-no-links-'));
  });

  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  async function tempFile(content: string): Promise<string> {
    const file = path.join(root, `part-${++tempCounter}`);
    await fs.writeFile(file, content);
    return file;
  }

  test('a free name: the temporary file is renamed to it', async () => {
    const dir = await fs.mkdtemp(path.join(root, 'downloads-'));
    const temp = await tempFile('hello');
    const before = linkCalls;
    const stored = await publishWithoutOverwrite(temp, dir, 'report.pdf');
    assert.ok(linkCalls > before, 'the hard link was tried first');
    assert.equal(stored, path.join(dir, 'report.pdf'));
    assert.equal(await fs.readFile(stored, 'utf8'), 'hello');
    await assert.rejects(fs.readFile(temp), { code: 'ENOENT' });
  });

  test('taken names keep their content; concurrent stores of one name land under distinct free names, with no placeholder left', async () => {
    const dir = await fs.mkdtemp(path.join(root, 'downloads-'));
    for (let n = 0; n < 10; n++) await fs.writeFile(path.join(dir, numberedName('f.bin', n)), `old ${n}`);
    const temps = await Promise.all(Array.from({ length: 5 }, (_, i) => tempFile(`new ${i}`)));
    const stored = await Promise.all(temps.map((temp) => publishWithoutOverwrite(temp, dir, 'f.bin')));
    assert.deepEqual(stored.map((file) => path.basename(file)), [10, 11, 12, 13, 14].map((n) => numberedName('f.bin', n)));
    for (let n = 0; n < 10; n++) assert.equal(await fs.readFile(path.join(dir, numberedName('f.bin', n)), 'utf8'), `old ${n}`);
    for (const [i, file] of stored.entries()) assert.equal(await fs.readFile(file, 'utf8'), `new ${i}`);
    for (const temp of temps) await assert.rejects(fs.stat(temp), { code: 'ENOENT' });
    assert.equal((await fs.readdir(dir)).length, 15);
  });
});
