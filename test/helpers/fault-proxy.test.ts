// The fault-injecting proxy does what the reliability tests rely on: it forwards and counts
// bytes, cuts links (FIN or RST, now or after N bytes), holds data back without closing anything,
// and refuses new connections.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { FaultProxy } from './fault-proxy.ts';

/** Echoes everything back. */
async function startEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client that collects what it reads and records how it ended. */
async function dial(port: number): Promise<{ socket: Socket; received: () => Buffer; ended: Promise<'end' | 'error' | 'close'> }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<'end' | 'error' | 'close'>((resolve) => {
    socket.once('end', () => resolve('end'));
    socket.once('error', () => resolve('error'));
    socket.once('close', () => resolve('close'));
  });
  await once(socket, 'connect');
  return { socket, received: () => Buffer.concat(chunks), ended };
}

async function until(predicate: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('fault proxy', { timeout: 30_000 }, () => {
  let echo: Awaited<ReturnType<typeof startEcho>>;
  before(async () => {
    echo = await startEcho();
  });
  after(() => echo.close());

  const proxies: FaultProxy[] = [];
  afterEach(async () => {
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  /** A proxy in front of the echo server, closed after the test. */
  async function proxyToEcho(): Promise<FaultProxy> {
    const proxy = await FaultProxy.start(echo.port);
    proxies.push(proxy);
    return proxy;
  }

  test('forwards both ways and counts the bytes of each direction', async () => {
    const proxy = await proxyToEcho();
    const client = await dial(proxy.port);
    client.socket.write('hello');
    await until(() => client.received().length === 5, 'the echo');
    assert.equal(client.received().toString(), 'hello');
    assert.deepEqual(proxy.bytes, { up: 5, down: 5 });
    assert.equal(proxy.connections, 1);
    client.socket.destroy();
  });

  test('cut: FIN or RST reaches the client, and the link is gone', async () => {
    const proxy = await proxyToEcho();
    const gentle = await dial(proxy.port);
    await until(() => proxy.open === 1, 'the link');
    proxy.cut('fin');
    assert.equal(await gentle.ended, 'end');
    const rude = await dial(proxy.port);
    await until(() => proxy.open === 1, 'the link');
    proxy.cut('reset');
    assert.equal(await rude.ended, 'error');
    assert.equal(proxy.open, 0);
  });

  test('cutAfter forwards exactly that many bytes, then cuts', async () => {
    const proxy = await proxyToEcho();
    const client = await dial(proxy.port);
    proxy.cutAfter(7);
    client.socket.write('0123456789');
    await client.ended;
    // 7 bytes in all crossed the proxy: up to 7 up, and at most what was left of them down.
    assert.equal(proxy.bytes.up + proxy.bytes.down, 7);
    assert.ok(client.received().length <= 7 - 5);
    assert.equal(await client.ended, 'end', 'with FIN by default');
    const rude = await dial(proxy.port);
    proxy.cutAfter(3, 'reset');
    rude.socket.write('0123456789');
    assert.equal(await rude.ended, 'error', 'with RST when asked');
  });

  test('silence holds data back without closing anything; heal releases it', async () => {
    const proxy = await proxyToEcho();
    const client = await dial(proxy.port);
    await until(() => proxy.open === 1, 'the link');
    proxy.silence();
    client.socket.write('held');
    // Nothing may cross while silent; give it ample time to (wrongly) do so.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(client.received().length, 0);
    assert.equal(client.socket.destroyed, false);
    proxy.heal();
    await until(() => client.received().toString() === 'held', 'the held data');
    client.socket.destroy();
  });

  test('refuse closes new connections at once, until told otherwise', async () => {
    const proxy = await proxyToEcho();
    proxy.refuse();
    const refused = net.connect({ host: '127.0.0.1', port: proxy.port });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNRESET');
    assert.equal(proxy.connections, 0);
    proxy.refuse(false);
    const accepted = await dial(proxy.port);
    const connected = proxy.connections;
    assert.equal(connected, 1);
    accepted.socket.destroy();
  });
});
