// A receiver whose downloads volume fills up mid-transfer (another process writes the rest of a
// small tmpfs) fails that transfer at once with the reason on both sides, and the connection, its
// messages both ways and the daemon carry on. A small volume still receives small files.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChatHome, isAlive } from '../helpers/chat.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';

/** The small volume: 5 % of it (410 KiB) is the reserve, not 64 MiB. */
const VOLUME = '8m';
const FILE_BYTES = 6 * 1024 * 1024;
/** Bytes let through before the link is held, so the disk is filled while the file is half sent. */
const BEFORE_FILLING = 2 * 1024 * 1024;
/** From the moment the disk is full and the link heals, the failure must be reported within this. */
const REPORTED_WITHIN_MS = 10_000;

describe('the receiver\'s disk fills up during a transfer', { timeout: 120_000 }, () => {
  let home: ChatHome;
  let small: string;
  let mounted = false;
  let proxy: FaultProxy | undefined;

  before(async () => {
    home = await ChatHome.create();
    small = path.join(home.dir, 'small');
    mkdirSync(small, { mode: 0o700 });
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${VOLUME},mode=0700`, 'tmpfs', small], { encoding: 'utf8' });
    mounted = mount.status === 0;
  });
  after(async () => {
    await proxy?.close();
    await home.cleanup().catch(() => undefined);
    if (mounted) spawnSync('umount', ['-l', small]);
  });

  test('the transfer fails with "disk full on bob\'s side", messages keep flowing, the daemon stays up', async (t) => {
    if (!mounted) {
      t.skip('cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): no small volume to fill');
      return;
    }
    const alice = await home.startDaemon('alice');
    const bob = await home.startDaemon('bob', ['--downloads', small]);
    proxy = await FaultProxy.start(bob.port);
    const connected = await home.run(['connect', '--profile', 'alice', String(proxy.port)]);
    assert.equal(connected.code, 0, connected.stderr);

    const file = path.join(home.dir, 'six.bin');
    writeFileSync(file, randomBytes(FILE_BYTES));
    proxy.silenceAfter(BEFORE_FILLING);
    const transfer = home.run(['transfer', '--profile', 'alice', file], { timeoutMs: 60_000 });
    await waitUntil(() => proxy!.bytes.up + proxy!.bytes.down >= BEFORE_FILLING, 'the link to be held mid-transfer');

    // Another process takes every byte left on the volume.
    const fill = spawnSync('dd', ['if=/dev/zero', `of=${path.join(small, 'filler')}`, 'bs=64k'], { encoding: 'utf8' });
    assert.match(fill.stderr, /No space left on device/, 'dd filled the volume');
    const healed = performance.now();
    proxy.heal();

    const result = await transfer;
    const took = performance.now() - healed;
    assert.equal(result.code, 1, `the transfer fails: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /^chat: transfer of .*six\.bin failed: peer could not store the file: disk full on bob's side: \d+(\.\d)? (B|KiB) free$/m);
    assert.ok(took < REPORTED_WITHIN_MS, `reported after ${took.toFixed(0)} ms`);
    assert.match(readFileSync(path.join(home.profileDir('bob'), 'chatd.log'), 'utf8'), /disk full on bob's side/);

    for (const [from, text] of [['alice', 'after the full disk, from alice'], ['bob', 'after the full disk, from bob']] as const) {
      const sent = await home.run(['send', '--profile', from, text], { timeoutMs: 20_000 });
      assert.equal(sent.code, 0, `${from} can still send: ${sent.stderr}`);
    }
    assert.ok(isAlive(bob.pid) && isAlive(alice.pid), 'both daemons keep running');
    const status = JSON.parse((await home.run(['daemon', 'status', '--profile', 'bob', '--json'])).stdout);
    assert.equal(status.connection, 'connected');

    // With room again, the same small volume takes a small file (the reserve is 5 % of it).
    execFileSync('rm', [path.join(small, 'filler')]);
    const again = await home.run(['transfer', '--profile', 'alice', file], { timeoutMs: 60_000 });
    assert.equal(again.code, 0, again.stderr);
  });
});

async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
