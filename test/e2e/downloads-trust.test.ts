// The downloads directory is trusted only if no other user can change where its path leads: at
// start every directory on the path is checked, and while chatd runs a folder swapped for a link
// or for another directory gets no file, not even a partial one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChatHome, collect, isAlive, ROOT } from '../helpers/chat.ts';
import { errorLine } from '../helpers/error-line.ts';
import { connectTlsPeer, createTestIdentity } from '../helpers/tls-peer.ts';

/** Another user, for the directories that must not belong to one. */
const NOBODY = 65534;
const CHANGED = /^the receiver's downloads directory changed since chatd started$/;
const DECLINED = /^chat: transfer of .*authorized_keys failed: peer declined the file: the receiver's downloads directory changed since chatd started$/;

describe('a downloads directory whose path another user can change', { timeout: 120_000 }, () => {
  const home = ChatHome.forSuite();

  /** `chat daemon start` and chatd itself both refuse, with one line naming `pattern`. */
  async function refusedBoth(profile: string, downloads: string, pattern: RegExp): Promise<void> {
    const started = await home.run(['daemon', 'start', '--profile', profile, '--downloads', downloads]);
    assert.equal(started.code, 1, `chat daemon start should fail: ${started.stdout}${started.stderr}`);
    assert.match(errorLine(started), pattern);
    const chatd = await collect(
      spawn(process.execPath, [path.join(ROOT, 'bin', 'chatd.js'), '--home', home.dir, '--profile', profile, '--downloads', downloads], {
        env: home.env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
      undefined,
      30_000,
    );
    assert.equal(chatd.code, 1, `chatd should fail: ${chatd.stdout}${chatd.stderr}`);
    // In the foreground chatd also echoes its log; its own error is the one `chatd:` line.
    const own = chatd.stderr.split('\n').filter((line) => line.startsWith('chatd: '));
    assert.equal(own.length, 1, chatd.stderr);
    assert.match(own[0]!, pattern);
  }

  test('a parent others can write to is refused, unless it is sticky like /tmp', async () => {
    const shared = path.join(home.dir, 'shared');
    const downloads = path.join(shared, 'downloads');
    mkdirSync(downloads, { recursive: true, mode: 0o700 });
    chmodSync(shared, 0o777);
    await refusedBoth(
      'open-parent',
      downloads,
      /downloads directory .*shared\/downloads is not safe: .*shared on its path is writable by other users \(owner uid \d+, mode 0777\).*chmod go-w .*shared/,
    );
    // A missing downloads directory is not created under it either.
    rmSync(downloads, { recursive: true });
    await refusedBoth('open-parent', downloads, /shared on its path is writable by other users/);
    assert.deepEqual(readdirSync(shared), [], 'nothing was created in the open directory');

    chmodSync(shared, 0o1777);
    const status = await home.startDaemon('open-parent', ['--downloads', downloads]);
    assert.equal(status.downloads, downloads);
    assert.equal((await home.run(['daemon', 'stop', '--profile', 'open-parent'])).code, 0);
  });

  test('a parent, or a grandparent, that belongs to another user is refused', async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('not root: cannot give a directory to another user');
      return;
    }
    const downloads = path.join(home.dir, 'theirs', 'mine', 'downloads');
    mkdirSync(downloads, { recursive: true, mode: 0o700 });
    for (const ancestor of [path.dirname(downloads), path.dirname(path.dirname(downloads))]) {
      chownSync(ancestor, NOBODY, NOBODY);
      await refusedBoth(
        'foreign-parent',
        downloads,
        new RegExp(`${ancestor} on its path belongs to another user \\(uid ${NOBODY}, mode 0700\\).*fix it with: chown 0 ${ancestor}`),
      );
      chownSync(ancestor, 0, 0);
    }
    await home.startDaemon('foreign-parent', ['--downloads', downloads]);
    assert.equal((await home.run(['daemon', 'stop', '--profile', 'foreign-parent'])).code, 0);
  });
});

describe('a downloads directory swapped while chatd runs', { timeout: 180_000 }, () => {
  let home: ChatHome;
  let bob: { port: number; pid: number; downloads: string };
  /** Where the swapped-out original is kept: nothing may land there either. */
  let original: string;
  let elsewhere: string;
  let file: string;

  before(async () => {
    home = await ChatHome.create();
    await home.startDaemon('alice');
    bob = await home.startDaemon('bob');
    const connected = await home.run(['connect', '--profile', 'alice', String(bob.port)]);
    assert.equal(connected.code, 0, connected.stderr);
    original = `${bob.downloads}.original`;
    elsewhere = path.join(home.dir, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    file = path.join(home.dir, 'authorized_keys');
    writeFileSync(file, 'ssh-ed25519 AAAA... mallory\n');
  });
  after(async () => {
    await home.cleanup();
  });

  const logOf = (profile: string) => readFileSync(path.join(home.profileDir(profile), 'chatd.log'), 'utf8');

  /** Puts the original downloads directory back where chatd found it. */
  function restore(): void {
    rmSync(bob.downloads, { recursive: true, force: true });
    renameSync(original, bob.downloads);
  }

  test('a symbolic link in its place gets no file, and nothing lands where it points', async () => {
    renameSync(bob.downloads, original);
    symlinkSync(elsewhere, bob.downloads);
    try {
      const sent = await home.run(['transfer', '--profile', 'alice', file]);
      assert.equal(sent.code, 1, sent.stdout);
      assert.match(errorLine(sent), DECLINED);
      assert.deepEqual(readdirSync(elsewhere), [], 'nothing in the link target, not even a .part');
      assert.deepEqual(readdirSync(original), [], 'nothing in the original either');
      assert.ok(isAlive(bob.pid), 'the receiver keeps running');
      assert.match(logOf('bob'), /cannot store offered file "authorized_keys": refused: the downloads directory .*downloads changed since chatd started: it is now a symbolic link/);
    } finally {
      restore();
    }
  });

  test('another real directory in its place gets no file either', async () => {
    renameSync(bob.downloads, original);
    mkdirSync(bob.downloads, { mode: 0o700 });
    try {
      const sent = await home.run(['transfer', '--profile', 'alice', file]);
      assert.equal(sent.code, 1, sent.stdout);
      assert.match(errorLine(sent), DECLINED);
      assert.deepEqual(readdirSync(bob.downloads), [], 'nothing in the new directory');
      assert.deepEqual(readdirSync(original), [], 'nothing in the original');
      assert.match(logOf('bob'), /changed since chatd started: it is now another directory \(device \d+ inode \d+, was device \d+ inode \d+\)/);
    } finally {
      restore();
    }
  });

  test('a swap between the accept and the end: the file is refused at publishing, and its partial file removed', async () => {
    const sender = await createTestIdentity();
    try {
      // bob is connected to alice: free the slot for this hand-driven sender.
      assert.equal((await home.run(['disconnect', '--profile', 'bob'])).code, 0);
      // A new key, and bob has alice pinned: he lets it in with an invite.
      assert.equal((await home.run(['invite', '--profile', 'bob'])).code, 0);
      const peer = await connectTlsPeer(bob.port, sender);
      peer.hello({ name: 'sender' });
      await peer.waitFor('hello');
      const content = randomBytes(4096);
      const id = randomUUID();
      peer.send({ kind: 'fileOffer', id, name: 'authorized_keys', size: content.length });
      await peer.waitFor('fileAccept', (frame) => frame.id === id);
      assert.deepEqual(readdirSync(bob.downloads).sort(), [`.chat-${id}.part`, `.chat-${id}.state`], 'the partial file and its record are in the real directory');
      renameSync(bob.downloads, original);
      symlinkSync(elsewhere, bob.downloads);
      try {
        peer.send({ kind: 'fileChunk', id, data: content });
        peer.send({ kind: 'fileEnd', id, sha256: createHash('sha256').update(content).digest('hex') });
        const result = await peer.waitFor('fileResult', (frame) => frame.id === id);
        assert.equal(result.ok, false);
        assert.match(result.reason, CHANGED);
        assert.deepEqual(readdirSync(elsewhere), [], 'nothing in the link target');
        assert.deepEqual(readdirSync(original), [], 'the partial file is gone, and no final name was given');
        assert.match(logOf('bob'), new RegExp(`transfer ${id} refused before it was named: the downloads directory .* changed since chatd started: it is now a symbolic link`));
      } finally {
        restore();
        peer.close();
      }
    } finally {
      await sender.remove();
    }
  });

  test('with the original back, the daemon still serves: a new connection delivers a file', async () => {
    assert.ok(isAlive(bob.pid));
    await home.run(['disconnect', '--profile', 'bob']);
    const connected = await home.run(['connect', '--profile', 'alice', String(bob.port)]);
    assert.equal(connected.code, 0, connected.stderr);
    const sent = await home.run(['transfer', '--profile', 'alice', file]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.deepEqual(readdirSync(bob.downloads), ['authorized_keys']);
    assert.deepEqual(readdirSync(elsewhere), []);
  });
});
