// The control client's own end: close() ends the requests still waiting at once, so a command that
// closes its connection is not kept alive by their timeouts. A real daemon, a peer port that never speaks.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ControlClient, DaemonGoneError } from '../../src/control/client.ts';
import { resolveProfilePaths } from '../../src/control/paths.ts';
import { ChatHome } from '../helpers/chat.ts';

describe('ControlClient', { timeout: 60_000 }, () => {
  let home: ChatHome;
  let silent: net.Server;
  const sockets: net.Socket[] = [];

  before(async () => {
    home = await ChatHome.create();
    await home.startDaemon('alice');
    // Accepts and never answers: a `connect` to it waits for the handshake.
    silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    await home.cleanup();
  });

  test('close() rejects a request still waiting at once, not at its timeout', async () => {
    const client = await ControlClient.connect(resolveProfilePaths({ home: home.dir, profile: 'alice' }));
    const port = (silent.address() as net.AddressInfo).port;
    const waiting = client.request('connect', { host: '127.0.0.1', port }, 20_000);
    // The daemon has the request (and dials) once the silent server sees the connection.
    for (let waited = 0; sockets.length === 0 && waited < 10_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(sockets.length, 1, 'the daemon dialled');
    const started = Date.now();
    client.close();
    await assert.rejects(waiting, (error: unknown) => {
      assert.ok(error instanceof DaemonGoneError, String(error));
      assert.match(error.message, /closed before the daemon answered "connect"/);
      return true;
    });
    assert.ok(Date.now() - started < 1_000, `rejected after ${Date.now() - started} ms`);
  });
});
