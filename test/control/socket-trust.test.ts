// The checks a client makes before it sends a byte to the control socket, and the daemon before it
// serves there: the folder a real 0700 directory of ours whose parent others cannot rename it in,
// the socket a socket of ours. "Another user" cases need root (chown to 65534) and are skipped otherwise.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { SocketPlace } from '../../src/control/paths.ts';
import { checkControlSocket, prepareSocketDirectory, UntrustedSocketError } from '../../src/control/socket-trust.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'chat-trust-unit-'));
const servers: net.Server[] = [];
after(() => {
  for (const server of servers) server.close();
  rmSync(root, { recursive: true, force: true });
});
const asRoot = process.getuid?.() === 0;
let counter = 0;

/** A fresh parent directory (mode `parentMode`) holding the socket folder (mode `mode`, or none). */
function folder(mode: number | undefined, parentMode = 0o700): string {
  const parent = path.join(root, `case-${counter++}`);
  mkdirSync(parent);
  chmodSync(parent, parentMode);
  const dir = path.join(parent, 'chat-0');
  if (mode !== undefined) {
    mkdirSync(dir);
    chmodSync(dir, mode);
  }
  return dir;
}

async function listen(socketPath: string): Promise<void> {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
}

const at = (dir: string, place: SocketPlace = 'tmp') => ({ path: path.join(dir, 'x.sock'), place });

function refused(dir: string, pattern: RegExp, place: SocketPlace = 'tmp'): void {
  assert.throws(() => checkControlSocket(at(dir, place)), (error: unknown) => {
    assert.ok(error instanceof UntrustedSocketError, String(error));
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
}

describe('control socket trust', () => {
  test('no folder, or no socket in a good one: absent, so the client does not connect', () => {
    assert.equal(checkControlSocket(at(folder(undefined))), 'absent');
    assert.equal(checkControlSocket(at(folder(0o700))), 'absent');
  });

  test('a socket of ours in a 0700 folder of ours is trusted, under a private or a sticky parent', async () => {
    for (const parentMode of [0o700, 0o755, 0o1777]) {
      const dir = folder(0o700, parentMode);
      await listen(at(dir).path);
      assert.equal(checkControlSocket(at(dir)), 'present', parentMode.toString(8));
    }
  });

  test('a folder others can enter is refused, with what to do for its place', () => {
    refused(folder(0o750), /^refusing the control socket directory \S+: it is accessible to other users \(mode 0750\); remove it \(rm -r \S+\) and start the daemon again, or set XDG_RUNTIME_DIR/);
    refused(folder(0o777), /it is writable by other users \(mode 0777\)/);
    refused(folder(0o755), /it is accessible to other users \(mode 0755\); fix it with: chmod 700 \S+$/, 'profile');
  });

  test('a link or a file in place of the folder or of the socket is refused', async () => {
    const target = folder(0o700);
    const link = path.join(path.dirname(folder(undefined)), 'chat-0');
    symlinkSync(target, link);
    refused(link, /it is a symbolic link; remove the link/);
    const file = folder(undefined);
    writeFileSync(file, '');
    refused(file, /it is not a directory/);

    const dir = folder(0o700);
    writeFileSync(at(dir).path, '');
    refused(dir, /control socket \S+x\.sock: it is not a socket; remove it \(rm \S+\)/);
    const linked = folder(0o700);
    const real = path.join(folder(0o700), 'real.sock');
    await listen(real);
    symlinkSync(real, at(linked).path);
    refused(linked, /it is a symbolic link, not a socket/);
  });

  test('a parent others can write to and that is not sticky is refused: they could rename the folder', () => {
    refused(folder(0o700, 0o777), /its parent \S+ is writable by other users and not sticky \(mode 0777\), so they could replace it; use a TMPDIR only you can write to/);
  });

  test('another user\'s folder, socket or parent is refused', { skip: !asRoot && 'needs root' }, async () => {
    const theirs = folder(0o700);
    chownSync(theirs, 65534, 65534);
    refused(theirs, /it belongs to another user \(uid 65534, we are 0\), who could pose as your daemon; have it removed/);

    const dir = folder(0o700);
    await listen(at(dir).path);
    lchownSync(at(dir).path, 65534, 65534);
    refused(dir, /control socket \S+: it belongs to another user \(uid 65534, we are 0\)/);

    const underTheirs = folder(0o700);
    chownSync(path.dirname(underTheirs), 65534, 65534);
    refused(underTheirs, /its parent \S+ belongs to another user \(uid 65534/);
  });

  test('the daemon makes a missing folder 0700; it tightens one in the profile, never one in shared tmp', () => {
    const previous = process.umask(0);
    try {
      const missing = folder(undefined);
      prepareSocketDirectory(at(missing));
      assert.equal(statSync(missing).mode & 0o777, 0o700);
    } finally {
      process.umask(previous);
    }
    const inTmp = folder(0o750);
    assert.throws(() => prepareSocketDirectory(at(inTmp)), UntrustedSocketError);
    assert.equal(statSync(inTmp).mode & 0o777, 0o750, 'left as it was');
    const inProfile = folder(0o750);
    prepareSocketDirectory(at(inProfile, 'profile'));
    assert.equal(statSync(inProfile).mode & 0o777, 0o700);
  });
});
