// Which service manager chatd reports from its environment and parent (daemon/supervisor.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectSupervisor } from '../../src/daemon/supervisor.ts';

test('systemd, launchd and init are told apart; a Terminal on macOS (XPC_SERVICE_NAME=0) is none', () => {
  assert.equal(detectSupervisor({ env: { INVOCATION_ID: 'abc' }, ppid: 1, spawnedByChat: false }), 'systemd');
  assert.equal(detectSupervisor({ env: { XPC_SERVICE_NAME: 'org.example.chatd' }, ppid: 1, spawnedByChat: false }), 'launchd');
  assert.equal(detectSupervisor({ env: { XPC_SERVICE_NAME: '0' }, ppid: 4242, spawnedByChat: false }), null);
  assert.equal(detectSupervisor({ env: {}, ppid: 1, spawnedByChat: false }), 'init');
  assert.equal(detectSupervisor({ env: {}, ppid: 0, spawnedByChat: false }), 'init', 'chatd as pid 1 of a container');
  assert.equal(detectSupervisor({ env: {}, ppid: 4242, spawnedByChat: false }), null);
});

test('a daemon spawned by `chat daemon start` is no service, even with a unit\'s variables inherited', () => {
  assert.equal(detectSupervisor({ env: { INVOCATION_ID: 'abc' }, ppid: 1, spawnedByChat: true }), null);
});
