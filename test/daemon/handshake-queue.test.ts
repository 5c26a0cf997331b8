// The handshake queue of a real ChatDaemon in this process: past MAX_PENDING_HANDSHAKES pending
// incoming connections the oldest is dropped, with the logged reason, so a real peer still gets
// through a flood of idle sockets; the queue is empty again once they are gone.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { MAX_PENDING_HANDSHAKES } from '../../src/daemon/peer-slot.ts';
import { startInProcessDaemon, WAIT_MS, type InProcessDaemon } from '../helpers/daemon-in-process.ts';
import type { FramePeer } from '../helpers/frame-peer.ts';
import { connectTlsPeer, createTestIdentity } from '../helpers/tls-peer.ts';
import { within } from '../helpers/within.ts';

/** Idle sockets past the limit: each pushes out one older pending connection. */
const EXTRA = 8;
/** Long enough that no idle socket of the queue test is closed by its deadline, only by the queue. */
const NO_DEADLINE_MS = 120_000;
/** The deadline of the second daemon, short enough to wait out. */
const SHORT_DEADLINE_MS = 300;

type TestIdentity = Awaited<ReturnType<typeof createTestIdentity>>;

const DROP = /^peer (\S+): dropped unauthenticated connection to make room for (\S+) \((\d+) handshakes pending\)$/;
const DROPPED_BEFORE_HANDSHAKE = /^peer \S+: dropped before handshake: /;

/** A TCP connection that never says anything, with its address as the daemon sees it. */
interface IdleSocket {
  socket: net.Socket;
  address: string;
  closed: Promise<void>;
  isClosed: boolean;
}

const opened = new Set<net.Socket>();

/** Opens `count` idle connections one after the other, so the daemon accepts them in this order. */
async function openIdle(port: number, count: number): Promise<IdleSocket[]> {
  const sockets: IdleSocket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = net.connect({ host: '127.0.0.1', port });
    opened.add(socket);
    socket.on('error', () => undefined);
    const idle: IdleSocket = { socket, address: '', isClosed: false, closed: Promise.resolve() };
    idle.closed = new Promise((resolve) => socket.once('close', () => { idle.isClosed = true; resolve(); }));
    await once(socket, 'connect');
    idle.address = `127.0.0.1:${socket.localPort}`;
    sockets.push(idle);
  }
  return sockets;
}

function drops(node: InProcessDaemon): Array<{ dropped: string; newcomer: string; pending: number }> {
  return node.log.matching(DROP).map((line) => {
    const [, dropped, newcomer, pending] = DROP.exec(line)!;
    return { dropped: dropped!, newcomer: newcomer!, pending: Number(pending) };
  });
}

describe('the handshake queue of an in-process daemon', { timeout: 60_000 }, () => {
  const peers: FramePeer[] = [];
  let squatter: TestIdentity;
  let friend: TestIdentity;

  before(async () => {
    [squatter, friend] = await Promise.all([createTestIdentity(), createTestIdentity()]);
  });
  afterEach(() => {
    for (const socket of opened) socket.destroy();
    opened.clear();
    for (const peer of peers.splice(0)) peer.close();
  });
  after(async () => {
    await Promise.all([squatter.remove(), friend.remove()]);
  });

  test(`past ${MAX_PENDING_HANDSHAKES} pending connections the oldest are dropped with the logged reason; a real peer still connects; the queue empties again`, async () => {
    const node = await startInProcessDaemon({ name: 'bob', handshakeTimeoutMs: NO_DEADLINE_MS });
    try {
      // The oldest pending connection got as far as the daemon's HELLO and never confirms it: it
      // is authenticated, so it is told why it is dropped.
      const stuck = await connectTlsPeer(node.port, squatter);
      peers.push(stuck);
      stuck.autoConfirm = false;
      stuck.hello({ name: 'squatter' });
      await stuck.waitFor('hello');
      const stuckAddress = `127.0.0.1:${stuck.socket.localPort}`;

      const idle = await openIdle(node.port, MAX_PENDING_HANDSHAKES - 1 + EXTRA);
      const flood = await node.log.waitFor(DROP, EXTRA);
      assert.equal(flood.length, EXTRA, `exactly ${EXTRA} dropped:\n${flood.join('\n')}`);
      assert.deepEqual(
        drops(node),
        [stuckAddress, ...idle.slice(0, EXTRA - 1).map((s) => s.address)].map((dropped, i) => ({
          dropped,
          newcomer: idle[MAX_PENDING_HANDSHAKES - 1 + i]!.address,
          pending: MAX_PENDING_HANDSHAKES,
        })),
        'the oldest pending connection made room for each newcomer, in order',
      );

      // The authenticated one hears why; the others are just closed (nobody to say goodbye to).
      const bye = await stuck.waitFor('bye');
      assert.equal(bye.reason, `dropped: ${MAX_PENDING_HANDSHAKES} handshakes pending`);
      await stuck.waitClosed();
      await within(Promise.all(idle.slice(0, EXTRA - 1).map((s) => s.closed)), 'the dropped idle sockets to close', WAIT_MS);
      const dropReason = new RegExp(`^peer (\\S+): dropped before handshake: "dropped: ${MAX_PENDING_HANDSHAKES} handshakes pending"$`);
      const loggedDrops = await node.log.waitFor(dropReason, EXTRA);
      assert.deepEqual(
        loggedDrops.map((line) => dropReason.exec(line)![1]).sort(),
        [stuckAddress, ...idle.slice(0, EXTRA - 1).map((s) => s.address)].sort(),
        'each dropped connection is logged with its reason',
      );
      assert.deepEqual(idle.slice(EXTRA - 1).filter((s) => s.isClosed).map((s) => s.address), [], 'the newer idle sockets are still pending');

      // A real peer arrives while the queue is full: it pushes out the oldest idle socket and
      // completes its handshake without waiting for any deadline.
      const started = Date.now();
      const real = await connectTlsPeer(node.port, friend);
      peers.push(real);
      real.hello({ name: 'friend' });
      await real.waitFor('pong', (pong) => pong.nonce === 0);
      const connected = await node.history.waitFor((event) => event.type === 'peer' && event.state === 'connected', 'friend connected');
      const handshakeMs = Date.now() - started;
      assert.equal(connected.from, 'friend');
      assert.equal(connected.type === 'peer' && connected.fingerprint, friend.fingerprint);
      assert.ok(handshakeMs < NO_DEADLINE_MS / 10, `the real peer connected in ${handshakeMs} ms`);
      const realAddress = `127.0.0.1:${real.socket.localPort}`;
      assert.deepEqual(drops(node).at(-1), { dropped: idle[EXTRA - 1]!.address, newcomer: realAddress, pending: MAX_PENDING_HANDSHAKES });
      assert.equal(drops(node).length, EXTRA + 1);
      const status = node.daemon.status();
      assert.equal(status.connection, 'connected');
      assert.equal(status.peer?.name, 'friend');
      assert.equal(status.peer?.address, realAddress);
      // ...and is served while the idle sockets are still there.
      const id = randomUUID();
      real.send({ kind: 'message', id, time: new Date().toISOString(), text: 'through the flood' });
      await real.waitFor('messageAck', (ack) => ack.id === id);

      // The idle sockets leave: every pending connection the daemon held is gone from its queue.
      for (const s of idle) s.socket.destroy();
      const total = 1 + idle.length;
      await node.log.waitFor(DROPPED_BEFORE_HANDSHAKE, total);
      assert.equal(node.log.matching(DROPPED_BEFORE_HANDSHAKE).length, total, 'each pending connection ended once');

      // Idle again: exactly MAX_PENDING_HANDSHAKES fit before one is dropped, and the one dropped
      // is the oldest of the new ones. A connection left behind in the queue would be counted,
      // and would be dropped first.
      const fresh = await openIdle(node.port, MAX_PENDING_HANDSHAKES + 1);
      await node.log.waitFor(DROP, EXTRA + 2);
      assert.deepEqual(drops(node).slice(EXTRA + 1), [
        { dropped: fresh[0]!.address, newcomer: fresh[MAX_PENDING_HANDSHAKES]!.address, pending: MAX_PENDING_HANDSHAKES },
      ]);
      assert.equal(node.daemon.status().peer?.name, 'friend', 'the real peer stayed connected throughout');
      // The squatter was never connected: nothing of it is in the history.
      assert.deepEqual(node.history.latest(100).map((event) => (event.type === 'peer' ? `${event.state} ${event.from}` : `${event.type} ${event.from}`)), [
        'connected friend',
        'message friend',
      ]);
    } finally {
      await node.cleanup();
    }
  });

  test('each idle connection is closed at the handshake deadline, and logged', async () => {
    const node = await startInProcessDaemon({ name: 'carol', handshakeTimeoutMs: SHORT_DEADLINE_MS });
    try {
      const started = Date.now();
      const idle = await openIdle(node.port, 3);
      await within(Promise.all(idle.map((s) => s.closed)), 'the idle sockets to close', WAIT_MS);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= SHORT_DEADLINE_MS - 50, `closed after ${elapsed} ms, before the deadline`);
      assert.ok(elapsed < SHORT_DEADLINE_MS + 5_000, `closed only after ${elapsed} ms`);
      const lines = await node.log.waitFor(new RegExp(`dropped before handshake: "no handshake within ${SHORT_DEADLINE_MS} ms"$`), idle.length);
      assert.deepEqual(lines.map((line) => /^peer (\S+): /.exec(line)![1]).sort(), idle.map((s) => s.address).sort());
      assert.equal(drops(node).length, 0, 'the queue never filled');
      assert.equal(node.daemon.status().connection, 'disconnected');
    } finally {
      await node.cleanup();
    }
  });
});
