// The ways to install chat, each as a user on this machine would (the system Node, older than chat
// needs, first on the PATH): `npm install -g` of the packed tarball, `npm link` in the clone, and the
// single executable on a PATH with no Node at all. Each runs the seed demo: two daemons, connect,
// send, transfer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collect, isAlive, ROOT, type RunResult } from '../helpers/chat.ts';
import { findOldSystemNode, userPath } from '../helpers/system-node.ts';

const oldNode = findOldSystemNode();
/** npm installs (about 15 s here) and the executable's build (about 20 s) on a loaded machine. */
const SLOW_STEP_MS = 180_000;

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000, cwd = os.tmpdir()): Promise<RunResult> {
  return collect(spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] }), undefined, timeoutMs);
}

/** What a user's shell has: no npm_* variables from the `npm test` that runs this file, no dev PATH. */
function shellEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && !['INIT_CWD', 'NODE', 'CHAT_HOME', 'CHAT_PROFILE', 'DEBUG'].includes(name)) env[name] = value;
  }
  return { ...env, PATH: userPath(oldNode!), ...extra };
}

/**
 * The seed demo with `chat` as given: Alice and Bob start, Bob connects to Alice, they exchange a
 * message, Alice sends a file and Bob holds an identical copy; both daemons stop.
 */
async function seedDemo(chat: (args: string[]) => Promise<RunResult>, work: string, checkDaemon?: (pid: number) => void): Promise<void> {
  const pids: number[] = [];
  try {
    const start = async (profile: string) => {
      const result = await chat(['daemon', 'start', '--profile', profile, '--json']);
      assert.equal(result.code, 0, `daemon start ${profile}: ${result.stderr}`);
      const status = JSON.parse(result.stdout) as { port: number; pid: number; downloads: string };
      pids.push(status.pid);
      checkDaemon?.(status.pid);
      return status;
    };
    const alice = await start('alice');
    const bob = await start('bob');
    const connected = await chat(['connect', '--profile', 'bob', String(alice.port)]);
    assert.equal(connected.code, 0, connected.stderr);
    assert.match(connected.stdout, /connected to alice/);
    const sent = await chat(['send', '--profile', 'bob', 'hello', 'Alice']);
    assert.equal(sent.code, 0, sent.stderr);
    const file = path.join(work, 'photo.jpg');
    const content = randomBytes(256 * 1024);
    writeFileSync(file, content);
    const transfer = await chat(['transfer', '--profile', 'alice', file, '--json']);
    assert.equal(transfer.code, 0, transfer.stderr);
    assert.equal(JSON.parse(transfer.stdout).sha256, createHash('sha256').update(content).digest('hex'));
    assert.deepEqual(readFileSync(path.join(bob.downloads, 'photo.jpg')), content);
    const history = await chat(['tail', '--profile', 'alice', '--no-follow', '--json']);
    assert.ok(history.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line)).some((event) => event.text === 'hello Alice' && event.from === 'bob'), history.stdout);
    for (const profile of ['alice', 'bob']) assert.equal((await chat(['daemon', 'stop', '--profile', profile])).code, 0);
    for (const pid of pids) assert.ok(!isAlive(pid), `daemon ${pid} stopped`);
  } finally {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // stopped, as it should be
      }
    }
  }
}

describe('install paths with the system Node first on the PATH', { timeout: 600_000, skip: oldNode ? false : 'no Node older than 22.13 on this machine' }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-install-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('npm install -g of the packed tarball gives chat and chatd that run the seed demo, with no warnings', { timeout: SLOW_STEP_MS }, async () => {
    // dist/ is built (npm test builds first): the tarball holds it as it is.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], shellEnv(), SLOW_STEP_MS, ROOT);
    assert.equal(packed.code, 0, packed.stderr);
    const tarball = path.join(dir, readdirSync(dir).find((name) => name.endsWith('.tgz'))!);
    const prefix = path.join(dir, 'global');
    // --prefer-offline: every dependency but `node` comes bundled in the tarball, and `node`'s own
    // tarball and the Node binary package its install script fetches are in the cache since npm ci.
    const installed = await run('npm', ['install', '-g', tarball, '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund'], shellEnv(), SLOW_STEP_MS);
    assert.equal(installed.code, 0, installed.stderr);
    assert.doesNotMatch(installed.stdout + installed.stderr, /EBADENGINE/);
    const env = shellEnv({ PATH: `${path.join(prefix, 'bin')}${path.delimiter}${userPath(oldNode!)}`, HOME: dir, CHAT_HOME: path.join(dir, 'global-home') });
    const version = await run('chat', ['--version'], env);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /node-v24\./, 'the package brought its own Node');
    const chatd = await run('chatd', ['--help'], env);
    assert.match(chatd.stdout, /^usage: chatd/);
    await seedDemo((args) => run('chat', args, env), dir);
  });

  test('npm link in the clone gives the same commands', { timeout: SLOW_STEP_MS }, async () => {
    const prefix = path.join(dir, 'linked');
    const linked = await run('npm', ['link', '--ignore-scripts', '--no-audit', '--no-fund'], shellEnv({ npm_config_prefix: prefix }), SLOW_STEP_MS, ROOT);
    assert.equal(linked.code, 0, linked.stderr);
    assert.ok(existsSync(path.join(prefix, 'bin', 'chatd')));
    const env = shellEnv({ PATH: `${path.join(prefix, 'bin')}${path.delimiter}${userPath(oldNode!)}`, HOME: dir, CHAT_HOME: path.join(dir, 'linked-home') });
    await seedDemo((args) => run('chat', args, env), dir);
  });
});

describe('the single executable', { timeout: 600_000, skip: process.platform === 'linux' && process.arch === 'x64' ? false : 'built and tested on Linux x64' }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-sea-'));
  let executable: string;
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(async () => {
    // What `npm run package` runs after its build (npm test built dist/ already).
    const built = await collect(spawn(process.execPath, [path.join(ROOT, 'scripts', 'package-sea.ts')], { cwd: ROOT }), undefined, SLOW_STEP_MS);
    assert.equal(built.code, 0, built.stderr);
    const printed = built.stdout.trim().split('\n').at(-1)!;
    executable = path.join(dir, 'bin', 'chat');
    mkdirSync(path.dirname(executable));
    copyFileSync(printed, executable);
  });

  test('runs the seed demo with an empty PATH (no Node anywhere), as chat and as chatd', async () => {
    const env = { PATH: '', HOME: path.join(dir, 'home'), CHAT_HOME: path.join(dir, 'chat-home') };
    const version = await run(executable, ['--version'], env);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^chat\/\d/);
    const chatd = path.join(dir, 'bin', 'chatd');
    linkSync(executable, chatd);
    assert.match((await run(chatd, ['--help'], env)).stdout, /^usage: chatd/);
    // `chat daemon start` runs this same file as the daemon.
    await seedDemo((args) => run(executable, args, env), dir, (pid) => assert.equal(readlinkSync(`/proc/${pid}/exe`), executable));
  });

  test('refuses to run code from a cache folder that others can write to', async () => {
    const cache = path.join(dir, 'open-cache');
    mkdirSync(path.join(cache, 'chat'), { recursive: true });
    chmodSync(path.join(cache, 'chat'), 0o777);
    const result = await run(executable, ['--version'], { PATH: '', HOME: path.join(dir, 'home'), XDG_CACHE_HOME: cache });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `chat: ${path.join(cache, 'chat')} must be a folder of yours that only you can write to (it holds chat's unpacked code)\n`);
  });
});
