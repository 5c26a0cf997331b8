// The control client reads what a daemon (or whatever sits on the socket) sends as untrusted: a
// message over the cap, one that is not JSON, or not an object, ends the connection with a clear
// reason; answers to nobody and other types are ignored; notifications reach their handler. A fake
// daemon on a real unix socket.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ControlClient, DaemonGoneError } from '../../src/control/client.ts';
import { MAX_CONTROL_MESSAGE_BYTES } from '../../src/control/limits.ts';
import type { ProfilePaths } from '../../src/control/paths.ts';

const dirs: string[] = [];
const servers: net.Server[] = [];
after(async () => {
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fake daemon: `answer` gets each request the client sends and the socket to answer on. */
async function fakeDaemon(answer: (request: { id: number; method: string }, socket: net.Socket) => void): Promise<ProfilePaths> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fake-daemon-'));
  dirs.push(dir);
  const socketPath = path.join(dir, 'control.sock');
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      for (let end = buffered.indexOf('\f'); end !== -1; end = buffered.indexOf('\f')) {
        const message = JSON.parse(buffered.slice(0, end)) as { data: { id: number; method: string } };
        buffered = buffered.slice(end + 1);
        answer(message.data, socket);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { socket: socketPath, socketPlace: 'profile' } as ProfilePaths;
}

const frame = (data: unknown) => `${JSON.stringify({ type: 'rpc', data })}\f`;

describe('ControlClient against a hostile daemon', { timeout: 30_000 }, () => {
  test('an answer arrives however it is cut; answers to nobody and other types are ignored; notifications reach their handler', async () => {
    const paths = await fakeDaemon((request, socket) => {
      const bytes = Buffer.from(
        frame({ jsonrpc: '2.0', id: 9999, result: 'for nobody' }) +
          `${JSON.stringify({ type: 'other', data: 1 })}\f` +
          frame({ jsonrpc: '2.0', method: 'event', params: { seq: 1, text: 'é' } }) +
          frame({ jsonrpc: '2.0', id: request.id, result: { name: 'bob 😀' } }),
      );
      // One byte at a time: every cut, inside characters too.
      for (let i = 0; i < bytes.length; i++) socket.write(bytes.subarray(i, i + 1));
    });
    const client = await ControlClient.connect(paths);
    const notified: unknown[] = [];
    client.onNotification('event' as never, (params: unknown) => notified.push(params));
    assert.deepEqual(await client.request('status', {} as never, 5_000), { name: 'bob 😀' });
    assert.deepEqual(notified, [{ seq: 1, text: 'é' }]);
    client.close();
  });

  for (const [what, bytes, reason] of [
    ['a message over the cap', () => `{"type":"rpc","data":"${'x'.repeat(MAX_CONTROL_MESSAGE_BYTES)}`, /longer than \d+ bytes/],
    ['a message that is not JSON', () => 'not json\f', /not JSON/],
    ['a message that is not a JSON object', () => '[1,2]\f', /not a JSON object/],
  ] as const) {
    test(`${what} ends the connection: the request waiting fails with the reason, not at its timeout`, async () => {
      const paths = await fakeDaemon((_request, socket) => socket.write(bytes()));
      const client = await ControlClient.connect(paths);
      let closed = false;
      client.onClose(() => { closed = true; });
      const started = Date.now();
      await assert.rejects(client.request('status', {} as never, 20_000), (error: unknown) => {
        assert.ok(error instanceof DaemonGoneError, String(error));
        assert.match(error.message, reason);
        assert.match(error.message, /during "status"/);
        return true;
      });
      assert.ok(Date.now() - started < 10_000, `failed after ${Date.now() - started} ms`);
      assert.equal(closed, true, 'onClose listeners ran');
    });
  }
});
