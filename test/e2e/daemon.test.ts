// The daemon's life cycle: profiles side by side, where state goes, owner-only control socket,
// foreground mode, recovery after kill -9, one daemon per profile, and the Node version guard.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Config } from '@oclif/core';
import { DAEMON_MALLOC_ARENAS, DAEMON_SEMI_SPACE_MIB } from '../../src/control/daemon-environment.ts';
import { defaultChatHome } from '../../src/control/paths.ts';
import { ChatHome, CLI, collect, isAlive, ROOT } from '../helpers/chat.ts';
import { findOldSystemNode } from '../helpers/system-node.ts';

async function waitUntil(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('daemon life cycle', { timeout: 180_000 }, () => {
  let home: ChatHome;
  let otherHome: ChatHome;

  before(async () => {
    home = await ChatHome.create();
    otherHome = await ChatHome.create();
  });
  after(async () => {
    await home.cleanup();
    await otherHome.cleanup();
  });

  test('profiles run side by side, under one CHAT_HOME and under several', async () => {
    const one = await home.startDaemon('default');
    const two = await home.startDaemon('work');
    const three = await otherHome.startDaemon('default');
    assert.equal(new Set([one.pid, two.pid, three.pid]).size, 3);
    assert.equal(new Set([one.port, two.port, three.port]).size, 3);
    const status = JSON.parse((await otherHome.run(['daemon', 'status', '--json'])).stdout);
    assert.equal(status.pid, three.pid);
    assert.equal(status.home, otherHome.dir);
    assert.equal(status.name, os.userInfo().username, 'the default profile is named after the user');
    assert.equal(two.name, 'work', 'other profiles are named after the profile');
  });

  test('chatd starts with a small young generation and one malloc arena, and a user\'s own settings win', async () => {
    const environ = async (pid: number) => {
      const entries = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
      const value = (name: string) => entries.find((entry) => entry.startsWith(`${name}=`))?.slice(name.length + 1);
      return { options: value('NODE_OPTIONS'), arenas: value('MALLOC_ARENA_MAX') };
    };
    const ours = await home.startDaemon('semi-default', [], { NODE_OPTIONS: '--enable-source-maps', MALLOC_ARENA_MAX: undefined });
    assert.deepEqual(await environ(ours.pid), { options: `--enable-source-maps --max-semi-space-size=${DAEMON_SEMI_SPACE_MIB}`, arenas: String(DAEMON_MALLOC_ARENAS) });
    const theirs = await home.startDaemon('semi-user', [], { NODE_OPTIONS: '--max-semi-space-size=4', MALLOC_ARENA_MAX: '3' });
    assert.deepEqual(await environ(theirs.pid), { options: '--max-semi-space-size=4', arenas: '3' });
  });

  test('--name, --downloads and --port are honoured', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    const downloads = path.join(home.dir, 'my downloads');
    const started = await home.startDaemon('custom', ['--port', String(port), '--name', 'Zoë', '--downloads', downloads]);
    assert.equal(started.port, port);
    assert.equal(started.name, 'Zoë');
    assert.equal(started.downloads, downloads);
    assert.equal(((await stat(downloads)).mode & 0o777), 0o700);
  });

  test('the control socket is owner-only, state lives in the profile directory', async () => {
    const dir = home.profileDir('default');
    const runDir = await stat(path.join(dir, 'run'));
    assert.equal(runDir.mode & 0o777, 0o700);
    const socket = await stat(path.join(dir, 'run', 'control.sock'));
    assert.ok(socket.isSocket());
    assert.equal(socket.mode & 0o777, 0o600);
    for (const file of ['chatd.log', 'chatd.pid', 'history.db']) assert.ok(existsSync(path.join(dir, file)), file);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  });

  test('CHAT_HOME defaults to the OS data directory that oclif gives', async () => {
    const config = await Config.load(ROOT);
    assert.equal(defaultChatHome(), config.dataDir);
    const xdg = await mkdtemp(path.join(os.tmpdir(), 'chat-xdg-'));
    try {
      const env = { CHAT_HOME: '', XDG_DATA_HOME: xdg };
      const started = await home.run(['daemon', 'start', '--json'], { env });
      assert.equal(started.code, 0, started.stderr);
      assert.equal(JSON.parse(started.stdout).home, path.join(xdg, 'chat'));
      assert.ok(existsSync(path.join(xdg, 'chat', 'profiles', 'default', 'history.db')));
      assert.equal((await home.run(['daemon', 'stop'], { env })).code, 0);
    } finally {
      await rm(xdg, { recursive: true, force: true });
    }
  });

  test('a CHAT_HOME too long for a Unix socket path still works (the socket moves to the temp dir)', async () => {
    const deep = path.join(home.dir, 'a-rather-long-directory-name-'.repeat(4));
    const env = { CHAT_HOME: deep };
    const started = await home.run(['daemon', 'start', '--profile', 'long', '--json'], { env });
    assert.equal(started.code, 0, started.stderr);
    try {
      assert.ok(Buffer.byteLength(path.join(deep, 'profiles', 'long', 'run', 'control.sock')) > 108);
      assert.equal((await home.run(['daemon', 'status', '--profile', 'long'], { env })).code, 0);
    } finally {
      assert.equal((await home.run(['daemon', 'stop', '--profile', 'long'], { env })).code, 0);
    }
  });

  test('after kill -9 the stale socket and pid file do not stop a new start', async () => {
    const first = await home.startDaemon('crashy');
    process.kill(first.pid, 'SIGKILL');
    await waitUntil(() => !isAlive(first.pid), 'the daemon to die');
    const down = await home.run(['daemon', 'status', '--profile', 'crashy']);
    assert.equal(down.code, 3);
    const second = await home.startDaemon('crashy');
    assert.notEqual(second.pid, first.pid);
    assert.equal((await home.run(['daemon', 'status', '--profile', 'crashy'])).code, 0);
  });

  test('two starts at once leave exactly one daemon, and both report it', async () => {
    const results = await Promise.all([0, 1, 2].map(() => home.run(['daemon', 'start', '--profile', 'race', '--json'])));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const pids = new Set(results.map((result) => JSON.parse(result.stdout).pid as number));
    assert.equal(pids.size, 1, `one daemon: ${[...pids].join(', ')}`);
    const daemons = execFileSync('ps', ['-eo', 'args']).toString().split('\n')
      .filter((line) => line.includes('chatd.js') && line.includes(home.dir) && line.includes('--profile race'));
    assert.equal(daemons.length, 1, daemons.join('\n'));
  });

  test('bin/chatd.js runs in the foreground and stops on SIGTERM', async () => {
    const chatd = spawn(process.execPath, [path.join(ROOT, 'bin', 'chatd.js'), '--home', home.dir, '--profile', 'fg', '--name', 'foreground'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = collect(chatd, undefined, 60_000);
    try {
      await waitUntil(async () => (await home.run(['daemon', 'status', '--profile', 'fg'])).code === 0, 'the foreground daemon');
      const status = JSON.parse((await home.run(['daemon', 'status', '--profile', 'fg', '--json'])).stdout);
      assert.equal(status.pid, chatd.pid);
      assert.equal(status.name, 'foreground');
    } finally {
      chatd.kill('SIGTERM');
    }
    const result = await exited;
    assert.equal(result.code, 0);
    assert.match(result.stderr, /started/, 'logs go to stderr too in the foreground');
    assert.equal((await home.run(['daemon', 'status', '--profile', 'fg'])).code, 3);
  });

  test('bin/ scripts started by an old system Node re-run themselves on the project\'s Node 24', async (t) => {
    const oldNode = findOldSystemNode();
    if (!oldNode) {
      t.skip('no Node older than 22.13 on this machine');
      return;
    }
    const result = await collect(
      spawn(oldNode, [CLI, '--version'], { env: { ...process.env, PATH: '/usr/bin:/bin' } }),
      undefined,
      30_000,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /node-v24\./);
  });
});
