// Another local user must not be able to pose as our daemon: when the socket path is too long for
// the profile, the socket lives in a per-user folder (XDG_RUNTIME_DIR, else shared tmp), and every
// client checks the folder and the socket before it sends a byte. "Another user" is uid 65534
// (nobody): the tests run as root so they can give a folder away (skipped otherwise).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ChatHome, collect, ROOT } from '../helpers/chat.ts';

const NOBODY = 65534;
const uid = process.getuid?.() ?? 0;
const PROFILE = 'p';
/** Long enough that CHAT_HOME/profiles/p/run/control.sock does not fit in sun_path. */
const DEEP = 'a-directory-name-long-enough-to-push-the-socket-out-'.repeat(2);

/** A fake daemon on the socket path: answers like chatd and records every byte and connection it gets. */
class FakeDaemon {
  connections = 0;
  bytes = 0;
  private readonly server: net.Server;

  private constructor(server: net.Server) {
    this.server = server;
  }

  static async listen(socketPath: string): Promise<FakeDaemon> {
    const server = net.createServer();
    const fake = new FakeDaemon(server);
    server.on('connection', (socket) => fake.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    return fake;
  }

  private serve(socket: net.Socket): void {
    this.connections++;
    let buffer = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      buffer += chunk.toString('utf8');
      let end;
      while ((end = buffer.indexOf('\f')) !== -1) {
        const message = JSON.parse(buffer.slice(0, end)) as { data: { id?: number; method: string } };
        buffer = buffer.slice(end + 1);
        const { id, method } = message.data;
        if (id === undefined) continue;
        const result = method === 'send' ? { id: 'm1', time: new Date().toISOString(), to: 'mallory' }
          : method === 'status' ? {
            pid: 1, name: 'mallory', fingerprint: '0'.repeat(64), profile: PROFILE, host: '127.0.0.1', port: 7001,
            downloads: '/tmp', connection: 'disconnected', peer: null, home: '/tmp', log: '/tmp/log', startedAt: new Date().toISOString(), version: '0.1.0',
          } : {};
        socket.write(`${JSON.stringify({ type: 'rpc', data: { jsonrpc: '2.0', id, result } })}\f`);
      }
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The documented fallback name: the first 24 hex digits of the SHA-256 of the run directory. */
function socketName(home: ChatHome): string {
  const runDir = path.join(home.profileDir(PROFILE), 'run');
  return `${createHash('sha256').update(runDir).digest('hex').slice(0, 24)}.sock`;
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  return lines[0]!;
}

describe('the control socket outside the profile belongs to us alone', { timeout: 240_000, skip: uid !== 0 && 'needs root to give a folder to another user' }, () => {
  let tmp: string;
  let home: ChatHome;
  let folder: string;
  let socketPath: string;
  let fake: FakeDaemon | undefined;

  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'chat-trust-'));
    home = await ChatHome.create({ subdir: DEEP, env: { TMPDIR: tmp, XDG_RUNTIME_DIR: '' } });
    assert.ok(Buffer.byteLength(path.join(home.profileDir(PROFILE), 'run', 'control.sock')) > 108, 'the in-profile path is too long');
    folder = path.join(tmp, `chat-${uid}`);
    socketPath = path.join(folder, socketName(home));
    fake = undefined;
  });

  afterEach(async () => {
    await fake?.close();
    await home.cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  /** Every way the CLI reaches the daemon refuses, with the one line and exit code, and sends nothing. */
  async function assertRefused(what: RegExp): Promise<void> {
    for (const env of [{}, { CHAT_NO_FAST_PATH: '1' }]) {
      const sent = await home.run(['send', '--profile', PROFILE, 'hi'], { env });
      assert.equal(sent.code, 1, `send must fail: ${sent.stdout}${sent.stderr}`);
      const line = oneLine(sent.stderr);
      assert.match(line, /^chat: refusing the control socket/);
      assert.ok(line.includes(folder), `names the path: ${line}`);
      assert.match(line, what);
      assert.doesNotMatch(sent.stdout, /delivered/);
    }
    const json = await home.run(['send', '--profile', PROFILE, '--json', 'hi']);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'untrusted_socket');

    const started = await home.run(['daemon', 'start', '--profile', PROFILE]);
    assert.equal(started.code, 1, `start must fail: ${started.stdout}${started.stderr}`);
    const line = oneLine(started.stderr);
    assert.doesNotMatch(line, /already running/);
    assert.match(line, what);
    assert.match(line, /XDG_RUNTIME_DIR/, 'says what to do');
    for (const args of [['daemon', 'status'], ['daemon', 'stop'], ['tail', '--no-follow']]) {
      const result = await home.run([...args, '--profile', PROFILE]);
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(oneLine(result.stderr), /^chat: refusing the control socket/);
    }
    if (fake) {
      assert.equal(fake.bytes, 0, 'the fake daemon received nothing');
      assert.equal(fake.connections, 0, 'nobody even connected to it');
    }
  }

  test('a fallback folder another user made first is refused, and their fake daemon hears nothing', async () => {
    mkdirSync(folder, { mode: 0o700 });
    chownSync(folder, NOBODY, NOBODY);
    fake = await FakeDaemon.listen(socketPath);
    lchownSync(socketPath, NOBODY, NOBODY);
    await assertRefused(new RegExp(`belongs to another user \\(uid ${NOBODY}, we are ${uid}\\)`));

    // chatd itself (run in the foreground, as systemd would) refuses the folder too.
    const chatd = spawn(process.execPath, [path.join(ROOT, 'bin', 'chatd.js'), '--profile', PROFILE], { env: home.env(), stdio: ['pipe', 'pipe', 'pipe'] });
    const result = await collect(chatd, undefined, 30_000);
    assert.equal(result.code, 1, result.stderr);
    assert.match(oneLine(result.stderr), new RegExp(`^chatd: refusing the control socket directory ${folder}: it belongs to another user .*XDG_RUNTIME_DIR`));
    assert.equal(fake.connections, 0, 'chatd did not probe the fake socket either');
  });

  test('a fallback folder of ours that others can enter, or a socket of another user in it, is refused', async () => {
    mkdirSync(folder, { mode: 0o700 });
    chmodSync(folder, 0o777);
    fake = await FakeDaemon.listen(socketPath);
    await assertRefused(/is writable by other users \(mode 0777\)/);
    assert.equal(statSync(folder).mode & 0o777, 0o777, 'nothing repaired a folder in shared tmp');

    chmodSync(folder, 0o700);
    lchownSync(socketPath, NOBODY, NOBODY);
    await assertRefused(new RegExp(`control socket ${socketPath.replaceAll('.', '\\.')}: it belongs to another user \\(uid ${NOBODY}`));
    await fake.close();
    fake = undefined;

    // chatd does not tighten a merely readable folder in shared tmp: it refuses it.
    await rm(socketPath, { force: true });
    chmodSync(folder, 0o750);
    const chatd = spawn(process.execPath, [path.join(ROOT, 'bin', 'chatd.js'), '--profile', PROFILE], { env: home.env(), stdio: ['pipe', 'pipe', 'pipe'] });
    const result = await collect(chatd, undefined, 30_000);
    assert.equal(result.code, 1, result.stderr);
    assert.match(oneLine(result.stderr), /^chatd: refusing the control socket directory .*is accessible to other users \(mode 0750\)/);
    assert.equal(statSync(folder).mode & 0o777, 0o750);
  });

  test('with a private XDG_RUNTIME_DIR the socket lives there; one that is not private is passed over', async () => {
    const runtime = await mkdtemp(path.join(os.tmpdir(), 'chat-runtime-'));
    try {
      const env = { XDG_RUNTIME_DIR: runtime };
      const started = await home.run(['daemon', 'start', '--profile', PROFILE, '--json'], { env });
      assert.equal(started.code, 0, started.stderr);
      const inRuntime = path.join(runtime, 'chat', socketName(home));
      assert.ok(lstatSync(inRuntime).isSocket(), 'the socket is in XDG_RUNTIME_DIR/chat');
      assert.equal(lstatSync(path.dirname(inRuntime)).mode & 0o777, 0o700);
      assert.equal(existsSync(folder), false, 'nothing in shared tmp');
      assert.equal((await home.run(['daemon', 'status', '--profile', PROFILE], { env })).code, 0);
      const sent = await home.run(['send', '--profile', PROFILE, 'hi'], { env });
      assert.equal(sent.code, 1);
      assert.match(oneLine(sent.stderr), /not connected to a peer/, 'the real daemon answered');
      const stopped = await home.run(['daemon', 'stop', '--profile', PROFILE], { env });
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stdout, /stopped chatd/);
      await rm(path.join(runtime, 'chat'), { recursive: true, force: true });

      // Not private (0755), or not ours: the shared-tmp folder is used, and the runtime dir is left alone.
      for (const spoil of [() => chmodSync(runtime, 0o755), () => { chmodSync(runtime, 0o700); chownSync(runtime, NOBODY, NOBODY); }]) {
        spoil();
        const again = await home.run(['daemon', 'start', '--profile', PROFILE, '--json'], { env });
        assert.equal(again.code, 0, again.stderr);
        assert.ok(lstatSync(socketPath).isSocket(), 'the socket is in the per-user tmp folder');
        assert.equal(existsSync(path.join(runtime, 'chat')), false);
        assert.equal((await home.run(['daemon', 'stop', '--profile', PROFILE], { env })).code, 0);
      }
    } finally {
      await rm(runtime, { recursive: true, force: true });
    }
  });
});
