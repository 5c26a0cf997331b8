// chatd as a service: started by the old system Node (so through the re-exec wrapper, as a systemd
// unit or launchd job with /usr/bin/node would), it stops cleanly when the supervisor signals the
// pid it sees, and `chat daemon status` names the supervisor.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { resolveProfilePaths } from '../../src/control/paths.ts';
import { ChatHome, collect, isAlive, ROOT } from '../helpers/chat.ts';
import { findOldSystemNode, userPath } from '../helpers/system-node.ts';

const oldNode = findOldSystemNode();
/** Whatever the test runner itself runs under must not leak into the daemon's view. */
const SUPERVISOR_VARIABLES = ['INVOCATION_ID', 'NOTIFY_SOCKET', 'JOURNAL_STREAM', 'XPC_SERVICE_NAME'];

describe('chatd under a supervisor, through the Node re-exec wrapper', { timeout: 120_000, skip: oldNode ? false : 'no Node older than 22.13 on this machine' }, () => {
  const home = ChatHome.forSuite();

  async function startThroughWrapper(profile: string, extraEnv: NodeJS.ProcessEnv) {
    const env: NodeJS.ProcessEnv = { ...home.env(), PATH: userPath(oldNode!), ...extraEnv };
    for (const name of SUPERVISOR_VARIABLES) if (!(name in extraEnv)) delete env[name];
    const wrapper = spawn(oldNode!, [path.join(ROOT, 'bin', 'chatd.js'), '--profile', profile, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = collect(wrapper, undefined, 60_000);
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      wrapper.stderr!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes(' started: ')) resolve();
      });
      wrapper.once('exit', () => reject(new Error(`chatd exited before it started: ${seen}`)));
    });
    const status = JSON.parse((await home.run(['daemon', 'status', '--profile', profile, '--json'])).stdout);
    assert.notEqual(status.pid, wrapper.pid, 'the daemon runs in the child the wrapper started');
    return { wrapper, exited, status, paths: resolveProfilePaths({ home: home.home, profile }) };
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} to the wrapper's pid stops the daemon; its socket and pid file are gone`, async () => {
      const env = signal === 'SIGTERM' ? { INVOCATION_ID: 'e2e-invocation' } : {};
      const { wrapper, exited, status, paths } = await startThroughWrapper(signal.toLowerCase(), env);
      assert.equal(status.supervisor, signal === 'SIGTERM' ? 'systemd' : null);
      assert.ok(existsSync(paths.pidFile) && existsSync(paths.socket));
      wrapper.kill(signal);
      const result = await exited;
      assert.equal(result.code, 0, `the wrapper exits as the daemon did: ${result.stderr}`);
      assert.ok(!isAlive(status.pid), 'the daemon is gone');
      assert.ok(!existsSync(paths.pidFile), 'pid file removed');
      assert.ok(!existsSync(paths.socket), 'socket removed');
      assert.match(result.stderr, new RegExp(`stopping: ${signal}`));
    });
  }

  test('a daemon that `chat daemon start` spawned runs under no supervisor, whatever its environment', async () => {
    const status = await home.startDaemon('spawned', [], { INVOCATION_ID: 'inherited-from-a-shell-in-a-unit' });
    const result = await home.run(['daemon', 'status', '--profile', 'spawned', '--json']);
    assert.equal(JSON.parse(result.stdout).supervisor, null);
    assert.match((await home.run(['daemon', 'status', '--profile', 'spawned'])).stdout, /^supervisor {2}-$/m);
    assert.ok(isAlive(status.pid));
  });
});
