// Every error case and exit code of the CLI contract, with real daemons and the built CLI.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ChatHome, CLI, collect, historyOf, type RunResult } from '../helpers/chat.ts';
import { errorLine } from '../helpers/error-line.ts';

/** The handshake timeout of the daemon that dials a silent port. */
const SHORT_HANDSHAKE_MS = 1_000;

/** One line on stderr, no stack trace. */
function assertOneLineError(result: RunResult, pattern: RegExp): void {
  assert.match(errorLine(result), pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

function nobodyUid(): number {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith('nobody:'));
  assert.ok(line, 'a "nobody" user exists');
  return Number(line.split(':')[2]);
}

describe('CLI contract: errors and exit codes', { timeout: 240_000 }, () => {
  const home = ChatHome.forSuite();
  let alice: { port: number };
  let bob: { port: number; downloads: string };

  before(async () => {
    alice = await home.startDaemon('alice');
    bob = await home.startDaemon('bob');
  });

  test('commands that need a daemon say it is not running and how to start it (exit 1)', async () => {
    for (const args of [['send', 'hi'], ['connect', '7000'], ['transfer', 'x'], ['tail'], ['disconnect'], ['console']]) {
      const result = await home.run([...args, '--profile', 'nobody']);
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assertOneLineError(result, /not running.*chat daemon start --profile nobody/);
    }
    const byEnv = await home.run(['send', 'hi'], { env: { CHAT_PROFILE: 'nobody' } });
    assert.equal(byEnv.code, 1);
    assert.match(byEnv.stderr, /profile "nobody"/);
  });

  test('daemon status exits 3 when no daemon runs, 0 when one does', async () => {
    const down = await home.run(['daemon', 'status', '--profile', 'nobody']);
    assert.equal(down.code, 3);
    assert.match(down.stdout, /not running/);
    const downJson = await home.run(['daemon', 'status', '--profile', 'nobody', '--json']);
    assert.equal(downJson.code, 3);
    assert.equal(JSON.parse(downJson.stdout).running, false);
    const up = await home.run(['daemon', 'status', '--profile', 'alice']);
    assert.equal(up.code, 0);
  });

  test('daemon stop when none runs exits 0 and says so', async () => {
    const result = await home.run(['daemon', 'stop', '--profile', 'nobody']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /no chat daemon is running/);
  });

  test('daemon start on a taken port exits 1 naming the port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const result = await home.run(['daemon', 'start', '--profile', 'carol', '--port', String(port)]);
      assert.equal(result.code, 1);
      assertOneLineError(result, new RegExp(`port ${port}.*in use`));
      const status = await home.run(['daemon', 'status', '--profile', 'carol']);
      assert.equal(status.code, 3, 'no daemon is left behind');
    } finally {
      blocker.close();
    }
  });

  test('daemon start --downloads at a file, or where no directory can be made, fails at once in one line (exit 1)', async () => {
    const file = path.join(home.dir, 'not-a-directory');
    await writeFile(file, 'x');
    const cases: Array<[string, string, string]> = [
      ['dl-file', file, `the downloads directory ${file} is a file, not a directory; choose another with --downloads DIR`],
      // Node's recursive mkdir loops forever on /proc/nope: chatd hung until daemon start gave up after 20 s.
      ['dl-proc', '/proc/nope', 'cannot create the downloads directory /proc/nope: that file system does not allow new directories there (ENOENT); choose another with --downloads DIR'],
    ];
    for (const [profile, downloads, problem] of cases) {
      if (profile === 'dl-proc' && process.platform !== 'linux') continue;
      const started = Date.now();
      const result = await home.run(['daemon', 'start', '--profile', profile, '--downloads', downloads]);
      assert.equal(result.code, 1, result.stderr);
      assert.equal(errorLine(result), `chat: cannot start the daemon: ${problem}`);
      assert.ok(Date.now() - started < 10_000, `reported after ${Date.now() - started} ms`);
      assert.ok(readFileSync(path.join(home.profileDir(profile), 'chatd.log'), 'utf8').includes(`cannot start: ${problem}`), 'the log says it too');
      assert.equal((await home.run(['daemon', 'status', '--profile', profile])).code, 3, 'no daemon is left behind');
    }
  });

  test('daemon start with flags the running daemon does not have says which, and to stop it first (exit 1)', async () => {
    const other = alice.port === 7777 ? 7778 : 7777;
    const result = await home.run(['daemon', 'start', '--profile', 'alice', '--port', String(other), '--name', 'zed']);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(
      errorLine(result),
      `chat: chatd already runs for profile "alice" with other options: --port ${other} (it listens on port ${alice.port}), --name zed (it is "alice"); ` +
        'to change them, stop it first (chat daemon stop --profile alice), then start it again',
    );
    const json = await home.run(['daemon', 'start', '--profile', 'alice', '--no-reconnect', '--json']);
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.stdout).error.code, 'options_differ');
    // The same options, or none: still "already running", exit 0.
    const same = await home.run(['daemon', 'start', '--profile', 'alice', '--port', String(alice.port), '--host', '127.0.0.1']);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stderr, /^chatd already running: .*; stop it with: chat daemon stop --profile alice\n$/);
  });

  test('daemon start with a bad flag value is a usage error (exit 2)', async () => {
    for (const args of [['--port', 'abc'], ['--port', '70000'], ['--port', '-1'], ['--bogus'], ['--name', '']]) {
      const result = await home.run(['daemon', 'start', '--profile', 'carol', ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    }
    const badProfile = await home.run(['daemon', 'start', '--profile', '../evil']);
    assert.equal(badProfile.code, 2);
  });

  test('connect: invalid ports exit 2; refused exits 1 with a clear message', async () => {
    for (const target of ['0', '70000', 'abc', 'localhost:', ':80', '1.2.3.4:99999']) {
      const result = await home.run(['connect', '--profile', 'alice', target]);
      assert.equal(result.code, 2, `${target}: ${result.stderr}`);
      assertOneLineError(result, /invalid/);
    }
    const missing = await home.run(['connect', '--profile', 'alice']);
    assert.equal(missing.code, 2);
    assert.equal(errorLine(missing), 'chat: missing TARGET (PORT, HOST:PORT or [IPv6]:PORT of the peer\'s daemon); usage: chat connect TARGET');
    // Not `invalid port "abc" in "abc"`.
    assert.equal(errorLine(await home.run(['connect', '--profile', 'alice', 'abc'])), 'chat: invalid peer address "abc": use a port (1-65535), HOST:PORT or [IPv6]:PORT');
    assert.equal(errorLine(await home.run(['connect', '--profile', 'alice', 'host:abc'])), 'chat: invalid port "abc" in "host:abc": use a number from 1 to 65535');

    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await home.run(['connect', '--profile', 'alice', String(port)]);
    assert.equal(refused.code, 1);
    assertOneLineError(refused, new RegExp(`127\\.0\\.0\\.1:${port}.*refused`));
  });

  test('connect to a host that does not resolve exits 1 with a clear message', async () => {
    const result = await home.run(['connect', '--profile', 'alice', 'no-such-host.invalid:7000']);
    assert.equal(result.code, 1);
    assertOneLineError(result, /cannot connect to no-such-host\.invalid:7000: (unknown host|host name lookup failed|timed out after 10 s)/);
  });

  test('connect to something that is not a chat daemon: one line, the address and "is that the right port?" (exit 1)', async () => {
    // An HTTP server, a plain TCP server that talks first, and one that hangs up at once.
    const impostors = [
      net.createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')),
      net.createServer((socket) => socket.write('hello, this is not TLS\n')),
      net.createServer((socket) => socket.destroy()),
    ];
    try {
      for (const impostor of impostors) {
        await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
        const port = (impostor.address() as net.AddressInfo).port;
        const result = await home.run(['connect', '--profile', 'alice', String(port)]);
        assert.equal(result.code, 1);
        // No OpenSSL internals ("SSL routines:…:wrong version number:../deps/openssl/…"), no literal \n.
        assert.equal(errorLine(result), `chat: 127.0.0.1:${port} does not speak chat (TLS handshake failed); is that the right port?`);
      }
      // The details are for the log.
      assert.match(readFileSync(path.join(home.profileDir('alice'), 'chatd.log'), 'utf8'), /does not speak chat: TLS handshake failed: .*wrong version number/);
    } finally {
      for (const impostor of impostors) impostor.close();
    }
  });

  test('connect to a port that accepts but never answers times out with exit 1', async () => {
    // Its own daemon with a short handshake timeout (CHATD_TEST_HANDSHAKE_TIMEOUT_MS), so the test
    // does not wait out the real HANDSHAKE_TIMEOUT_MS of 10 s.
    await home.startDaemon('impatient', [], { CHATD_TEST_HANDSHAKE_TIMEOUT_MS: String(SHORT_HANDSHAKE_MS) });
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const started = Date.now();
      const result = await home.run(['connect', '--profile', 'impatient', String(port)]);
      const elapsed = Date.now() - started;
      assert.equal(result.code, 1);
      assertOneLineError(result, new RegExp(`127\\.0\\.0\\.1:${port}.*no (TLS )?handshake within ${SHORT_HANDSHAKE_MS / 1000} s`));
      assert.ok(elapsed >= SHORT_HANDSHAKE_MS, `gave up after ${elapsed} ms, before the timeout`);
    } finally {
      silent.close();
    }
  });

  test('send without a peer exits 1 and says to run chat connect', async () => {
    const result = await home.run(['send', '--profile', 'alice', 'hello?']);
    assert.equal(result.code, 1);
    assertOneLineError(result, /not connected.*chat connect/);
  });

  test('send with an empty message exits 2 (arguments or stdin)', async () => {
    const empty = await home.run(['send', '--profile', 'alice', '']);
    assert.equal(empty.code, 2);
    const emptyStdin = await home.run(['send', '--profile', 'alice'], { input: '\n' });
    assert.equal(emptyStdin.code, 2);
    assertOneLineError(emptyStdin, /empty/);
  });

  test('transfer of a missing file, a directory or a non-file exits 1 naming the path; nothing is sent', async () => {
    const connected = await home.run(['connect', '--profile', 'alice', String(bob.port)]);
    assert.equal(connected.code, 0, connected.stderr);
    const missing = path.join(home.dir, 'no such file.txt');
    const dir = path.join(home.dir, 'a-directory');
    await mkdir(dir);
    for (const [target, problem] of [[missing, /no such file/], [dir, /is a directory/], ['/dev/null', /not a regular file/]] as const) {
      const result = await home.run(['transfer', '--profile', 'alice', target]);
      assert.equal(result.code, 1, `${target}: ${result.stderr}`);
      assertOneLineError(result, new RegExp(`${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*`));
      assert.match(result.stderr, problem);
    }
    const relative = await home.run(['transfer', '--profile', 'alice', 'missing.bin'], { cwd: home.dir });
    assert.equal(relative.code, 1);
    assert.match(relative.stderr, new RegExp(`${home.dir}/missing\\.bin: no such file`), 'the path is resolved against the working directory');
    const bobFiles = (await historyOf(home, 'bob')).filter((event) => event.type === 'file');
    assert.deepEqual(bobFiles, [], 'nothing was sent');
  });

  test('transfer of an unreadable file exits 1 naming the path', async (t) => {
    const locked = path.join(home.dir, 'locked.txt');
    await writeFile(locked, 'secret');
    let profile = 'alice';
    if (process.getuid?.() === 0) {
      // Root reads every file. A daemon started without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH
      // cannot read a 0600 file that another user owns, like any ordinary user.
      if (!existsSync('/usr/bin/setpriv')) {
        t.skip('running as root without setpriv: no way to run a daemon that cannot read a file');
        return;
      }
      await chown(locked, nobodyUid(), 0);
      await chmod(locked, 0o600);
      profile = 'no-dac';
      const started = await collect(
        spawn('/usr/bin/setpriv', ['--bounding-set=-dac_override,-dac_read_search', '--', process.execPath, CLI, 'daemon', 'start', '--profile', profile], { env: home.env() }),
        undefined,
        30_000,
      );
      assert.equal(started.code, 0, started.stderr);
    } else {
      await chmod(locked, 0o000);
    }
    const result = await home.run(['transfer', '--profile', profile, locked]);
    assert.equal(result.code, 1);
    assertOneLineError(result, /locked\.txt: permission denied/);
  });

  test('every command has --help with examples (exit 0)', async () => {
    const commands = [['daemon', 'start'], ['daemon', 'stop'], ['daemon', 'status'], ['connect'], ['disconnect'], ['send'], ['transfer'], ['tail'], ['console'], ['outbox'], ['outbox', 'drop']];
    for (const command of commands) {
      const result = await home.run([...command, '--help']);
      assert.equal(result.code, 0, `${command.join(' ')}: ${result.stderr}`);
      assert.match(result.stdout, /EXAMPLES/, command.join(' '));
      assert.match(result.stdout, /\$ chat /, command.join(' '));
    }
  });

  test('unknown commands and flags are usage errors (exit 2)', async () => {
    const unknown = await home.run(['nosuchcommand']);
    assert.equal(unknown.code, 2);
    assertOneLineError(unknown, /unknown command/);
    const flag = await home.run(['send', '--profile', 'alice', '--bogus', 'x']);
    assert.equal(flag.code, 2);
  });

  test('DEBUG shows the stack trace that is otherwise hidden', async () => {
    const plain = await home.run(['send', '--profile', 'nobody', 'x']);
    assert.doesNotMatch(plain.stderr, /\n\s+at /);
    const debug = await home.run(['send', '--profile', 'nobody', 'x'], { env: { DEBUG: '1' } });
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /\n\s+at /);
  });

  test('--json errors are a JSON object on stdout with the same exit code', async () => {
    const result = await home.run(['connect', '--profile', 'nobody', '7000', '--json']);
    assert.equal(result.code, 1);
    const body = JSON.parse(result.stdout);
    assert.equal(body.error.code, 'not_running');
    assert.equal(body.error.exitCode, 1);
  });

  test('the daemon of another profile is untouched by all of the above', async () => {
    const status = JSON.parse((await home.run(['daemon', 'status', '--profile', 'alice', '--json'])).stdout);
    assert.equal(status.port, alice.port);
  });
});
