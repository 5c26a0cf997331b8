// The duplicate-connection rule of a real ChatDaemon in this process (src/daemon/admission.ts and
// its use): the same key connecting again replaces or loses to the connection it has, by who
// dialled; another key is refused as busy; each outcome is checked in the daemon's own history
// and status(), not through the CLI.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import tls from 'node:tls';
import { after, afterEach, before, describe, test } from 'node:test';
import type { ChatEvent } from '../../src/history/events.ts';
import { PEER_ALPN } from '../../src/peer/secure-transport.ts';
import { startInProcessDaemon, type InProcessDaemon } from '../helpers/daemon-in-process.ts';
import { FramePeer } from '../helpers/frame-peer.ts';
import { connectTlsPeer, createTestIdentity } from '../helpers/tls-peer.ts';

type TestIdentity = Awaited<ReturnType<typeof createTestIdentity>>;

/** Where each dialling peer connected from, as the daemon sees it (kept: a closed socket forgets its port). */
const addresses = new WeakMap<FramePeer, string>();
const addressOf = (peer: FramePeer): string => addresses.get(peer) ?? assert.fail('not a dialling peer');

/** An event as one line, to compare histories at a glance. */
function summary(event: ChatEvent): string {
  if (event.type !== 'peer') return `${event.type} ${event.from}`;
  return `${event.state} ${event.direction} ${event.from}${event.reason ? `: ${event.reason}` : ''}`;
}

describe('the duplicate-connection rule of an in-process daemon', { timeout: 60_000 }, () => {
  /** Sorted by fingerprint: the daemon gets the middle key, so one peer's sorts below it and one above. */
  let low: TestIdentity;
  let middle: TestIdentity;
  let high: TestIdentity;
  let mallory: TestIdentity;
  let node: InProcessDaemon;
  const peers: FramePeer[] = [];
  const servers: tls.Server[] = [];

  before(async () => {
    const keys: TestIdentity[] = await Promise.all(Array.from({ length: 4 }, () => createTestIdentity()));
    mallory = keys.pop()!;
    [low, middle, high] = keys.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1)) as [TestIdentity, TestIdentity, TestIdentity];
  });
  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.close();
    for (const server of servers.splice(0)) server.close();
    await node?.cleanup();
  });
  after(async () => {
    await Promise.all([low, middle, high, mallory].map((key) => key.remove()));
  });

  /** A TLS peer that dials the daemon, says HELLO as `name` and confirms the daemon's answer. */
  async function dialIn(identity: TestIdentity, name: string): Promise<FramePeer> {
    const peer = await connectTlsPeer(node.port, identity);
    peers.push(peer);
    addresses.set(peer, `127.0.0.1:${peer.socket.localPort}`);
    peer.hello({ name });
    return peer;
  }

  async function connectedIn(identity: TestIdentity, name: string): Promise<FramePeer> {
    const peer = await dialIn(identity, name);
    await peer.waitFor('pong', (pong) => pong.nonce === 0);
    return peer;
  }

  /** A TLS listener with `identity`'s key that answers the daemon's HELLO as `name`; resolves with its port and its peers. */
  async function listenAs(identity: TestIdentity, name: string): Promise<{ port: number; accepted: FramePeer[] }> {
    const server = tls.createServer({
      key: identity.key, cert: identity.cert, requestCert: true, rejectUnauthorized: false,
      minVersion: 'TLSv1.3', ALPNProtocols: [PEER_ALPN],
    });
    servers.push(server);
    const accepted: FramePeer[] = [];
    server.on('secureConnection', (socket) => {
      const peer = new FramePeer(socket);
      peer.autoConfirm = false;
      accepted.push(peer);
      peers.push(peer);
      peer.waitFor('hello').then(() => peer.hello({ name }), () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as { port: number }).port, accepted };
  }

  test('the same key dialling again replaces its connection (the newer wins); the old one hears why', async () => {
    node = await startInProcessDaemon({ name: 'bob', identity: middle });
    const first = await connectedIn(low, 'alice');
    await node.history.waitFor((event) => event.type === 'peer' && event.state === 'connected', 'the first connection');

    const second = await connectedIn(low, 'alice');
    const replaced = await node.history.waitFor(
      (event) => event.type === 'peer' && event.state === 'connected' && event.address === addressOf(second), 'the second connection', { since: 1 });
    assert.equal(replaced.type === 'peer' && replaced.reason, `same key again: replaces the connection ${addressOf(first)}`);
    assert.equal((await first.waitFor('bye')).reason, 'duplicate connection');
    await first.waitClosed();

    // Again under another name: the same key is the same peer, and the event says what changed.
    const third = await connectedIn(low, 'alice-laptop');
    const renamed = await node.history.waitFor(
      (event) => event.type === 'peer' && event.state === 'connected' && event.address === addressOf(third), 'the renamed connection', { since: 2 });
    assert.equal(renamed.type === 'peer' && renamed.reason,
      `same key again: replaces the connection ${addressOf(second)}, now named "alice-laptop" (was "alice")`);
    assert.equal((await second.waitFor('bye')).reason, 'duplicate connection');

    const status = node.daemon.status();
    assert.equal(status.connection, 'connected');
    assert.deepEqual(
      { name: status.peer?.name, address: status.peer?.address, direction: status.peer?.direction, fingerprint: status.peer?.fingerprint },
      { name: 'alice-laptop', address: addressOf(third), direction: 'in', fingerprint: low.fingerprint },
    );
    // The replaced connections ended without a `disconnected` event: the `connected` ones say it all.
    assert.deepEqual(node.history.latest(100).map(summary), [
      'connected in alice',
      `connected in alice: same key again: replaces the connection ${addressOf(first)}`,
      `connected in alice-laptop: same key again: replaces the connection ${addressOf(second)}, now named "alice-laptop" (was "alice")`,
    ]);
    // And the newest connection is the one in use.
    const id = randomUUID();
    third.send({ kind: 'message', id, time: new Date().toISOString(), text: 'from the laptop' });
    await third.waitFor('messageAck', (ack) => ack.id === id);
    assert.equal(node.history.latest(1)[0]?.type === 'message' && node.history.latest(1)[0]?.from, 'alice-laptop');
  });

  test('another key while connected is refused as busy, whatever name it claims, and recorded', async () => {
    // --accept any: with consent (the default) a new key is refused before the slot is asked (consent.test.ts).
    node = await startInProcessDaemon({ name: 'bob', identity: middle, accept: 'any' });
    const alice = await connectedIn(low, 'alice');
    await node.history.waitFor((event) => event.type === 'peer' && event.state === 'connected', 'alice connected');

    const intruder = await dialIn(mallory, 'mallory');
    assert.equal((await intruder.waitFor('bye')).reason, 'busy: already connected to alice');
    await intruder.waitClosed();
    assert.equal(intruder.frames.some((frame) => frame.kind === 'hello'), false, 'refused at its HELLO, before ours');
    const refused = await node.history.waitFor((event) => event.type === 'peer' && event.state === 'refused', 'the refusal');
    assert.deepEqual(
      refused.type === 'peer' && { from: refused.from, direction: refused.direction, address: refused.address, fingerprint: refused.fingerprint, reason: refused.reason },
      { from: 'mallory', direction: 'in', address: addressOf(intruder), fingerprint: mallory.fingerprint, reason: 'busy: already connected to alice' },
    );
    assert.equal(node.log.matching(/^peer \S+: refused "mallory" \(key [^)]+\): busy: already connected to alice$/).length, 1);

    // Claiming the connected peer's name with another key: the pin speaks first (identity, not busy).
    const impostor = await dialIn(mallory, 'alice');
    assert.match((await impostor.waitFor('bye')).reason, /^identity: the key of "alice" has changed: pinned /);
    await impostor.waitClosed();
    await node.history.waitFor((event) => event.type === 'peer' && event.state === 'refused' && event.from === 'alice', 'the impostor refused');

    const status = node.daemon.status();
    assert.equal(status.peer?.fingerprint, low.fingerprint, 'still connected to the first key');
    assert.equal(status.peer?.address, addressOf(alice));
    assert.deepEqual(node.history.latest(100).map((event) => summary(event).replace(/: pinned .*/, '')), [
      'connected in alice',
      'refused in mallory: busy: already connected to alice',
      'refused in alice: identity: the key of "alice" has changed',
    ]);
    const id = randomUUID();
    alice.send({ kind: 'message', id, time: new Date().toISOString(), text: 'still here' });
    await alice.waitFor('messageAck', (ack) => ack.id === id);
  });

  /**
   * The daemon dialled `identity`'s listener, then `identity` dials the daemon: two dialers, so the
   * connection dialled by the smaller fingerprint is kept (both ends compute the same).
   */
  async function dialledThenDialledBack(identity: TestIdentity, name: string) {
    node = await startInProcessDaemon({ name: 'bob', identity: middle });
    const listener = await listenAs(identity, name);
    const control = await node.control();
    const result = await control.request('connect', { host: '127.0.0.1', port: listener.port });
    assert.equal(result.alreadyConnected, false);
    assert.equal(result.peer.direction, 'out');
    const outgoing = listener.accepted[0]!;
    await node.history.waitFor((event) => event.type === 'peer' && event.state === 'connected', 'the outgoing connection');
    const before = node.history.events.length;
    const incoming = await dialIn(identity, name);
    return { outgoing, incoming, before, outAddress: result.peer.address };
  }

  test('the same key dialling back a connection the daemon dialled: kept when the daemon\'s key is smaller, the newer one closed without an event', async () => {
    const { outgoing, incoming, before, outAddress } = await dialledThenDialledBack(high, 'hank');
    assert.ok(middle.fingerprint < high.fingerprint);
    // The newcomer completes its handshake (the rule needs the whole handshake), then loses.
    await incoming.waitFor('hello');
    assert.equal((await incoming.waitFor('bye')).reason, 'duplicate connection');
    await incoming.waitClosed();
    await node.log.waitFor(/^peer \S+: "hank" connected twice; kept the connection /);
    assert.deepEqual(node.history.events.slice(before), [], 'a newer connection that loses records nothing');
    const status = node.daemon.status();
    assert.equal(status.peer?.direction, 'out');
    assert.equal(status.peer?.address, outAddress);
    assert.equal(outgoing.frames.some((frame) => frame.kind === 'bye'), false, 'the kept connection was not told to leave');
    const id = randomUUID();
    outgoing.send({ kind: 'message', id, time: new Date().toISOString(), text: 'on the kept one' });
    await outgoing.waitFor('messageAck', (ack) => ack.id === id);
  });

  test('the same key dialling back a connection the daemon dialled: the newer one replaces it when the peer\'s key is smaller', async () => {
    const { outgoing, incoming, before, outAddress } = await dialledThenDialledBack(low, 'lena');
    assert.ok(low.fingerprint < middle.fingerprint);
    await incoming.waitFor('pong', (pong) => pong.nonce === 0);
    assert.equal((await outgoing.waitFor('bye')).reason, 'duplicate connection');
    const replaced = await node.history.waitFor((event) => event.type === 'peer' && event.state === 'connected', 'the replacing connection', { since: before });
    assert.equal(summary(replaced), `connected in lena: same key again: replaces the connection ${outAddress}`);
    await outgoing.waitClosed();
    const status = node.daemon.status();
    assert.equal(status.peer?.direction, 'in');
    assert.equal(status.peer?.address, addressOf(incoming));
    assert.deepEqual(node.history.events.slice(before).map(summary), [summary(replaced)], 'the replaced connection records no disconnection');
  });
});
