// Connection churn against a real daemon: strangers cycling through fresh keys and names, or one
// key reconnecting in a loop, cannot grow known_peers.json or the history without bound, nor
// forge a "refused us" event; the real, pinned peer still connects and shows in `chat tail`.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { NEW_PINS_PER_HOUR } from '../../src/daemon/new-peer-limit.ts';
import { CONNECTIONS_PER_KEY_PER_MINUTE, CONNECTIONS_PER_MINUTE, REFUSAL_EVENTS_PER_MINUTE } from '../../src/daemon/peer-event-budget.ts';
import { MAX_LOGGED_PEER_TEXT_BYTES } from '../../src/peer/log-text.ts';
import { PEER_ALPN } from '../../src/peer/secure-transport.ts';
import { ChatHome, historyOf, isAlive, type RunResult } from '../helpers/chat.ts';
import { FramePeer } from '../helpers/frame-peer.ts';
import { connectTlsPeer, createTestIdentity } from '../helpers/tls-peer.ts';

type TestIdentity = Awaited<ReturnType<typeof createTestIdentity>>;
type Event = Record<string, unknown>;

/** Well above the hour's new pins, few enough for a few seconds of sequential handshakes. */
const FRESH_IDENTITIES = NEW_PINS_PER_HOUR + 40;
/** A BYE reason as long as the wire allows (MAX_REASON_BYTES). */
const LONG_REASON = `leaving ${'x'.repeat(1000)}`;
/** The longest a stored reason may be: the clip, our own prefix, and the clip's marker. */
const STORED_REASON_BOUND = MAX_LOGGED_PEER_TEXT_BYTES + 100;

function json<T>(result: RunResult): T {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Waits (bounded) until the daemon has answered the peer's HELLO with a HELLO or a BYE. */
async function answerTo(peer: FramePeer): Promise<'hello' | 'bye'> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answer = peer.frames.find((frame) => frame.kind === 'hello' || frame.kind === 'bye');
    if (answer) return answer.kind as 'hello' | 'bye';
    if (Date.now() > deadline) throw new Error('no answer to HELLO');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** One connection of `identity` as `name`: connects if the daemon lets it, then leaves with LONG_REASON. Returns 'connected' or the refusal. */
async function connectAndLeave(port: number, identity: TestIdentity, name: string): Promise<'connected' | string> {
  const peer = await connectTlsPeer(port, identity);
  try {
    peer.hello({ name });
    if (await answerTo(peer) === 'bye') {
      await peer.waitClosed();
      return (await peer.waitFor('bye')).reason;
    }
    // The FramePeer confirmed the HELLO (PING 0); a PONG 0 says the daemon handled it, so the
    // connection is active before the BYE.
    await peer.waitFor('pong', (pong) => pong.nonce === 0);
    peer.send({ kind: 'bye', reason: LONG_REASON });
    await peer.waitClosed();
    return 'connected';
  } finally {
    peer.close();
  }
}

describe('connection churn from strangers', { timeout: 120_000 }, () => {
  let home: ChatHome;
  let bob: { port: number; pid: number };
  let bobFingerprint: string;
  let forger: TestIdentity;
  const fresh: TestIdentity[] = [];

  const peerEvents = async (): Promise<Event[]> => (await historyOf(home, 'bob', 1000)).filter((event) => event.type === 'peer');
  const pinnedNames = (): string[] =>
    (JSON.parse(readFileSync(path.join(home.profileDir('bob'), 'known_peers.json'), 'utf8')) as { peers: Array<{ name: string }> })
      .peers.map((peer) => peer.name);

  /** alice (pinned on both sides in `before`) connects to bob again, and bob's `chat tail` shows it. */
  async function assertRealPeerConnects(): Promise<void> {
    const before = (await peerEvents()).length;
    json(await home.run(['connect', '--profile', 'alice', String(bob.port), '--json']));
    const events = (await peerEvents()).slice(before);
    assert.ok(events.some((event) => event.state === 'connected' && event.from === 'alice'), `bob recorded alice's connection: ${JSON.stringify(events)}`);
    const tail = await home.run(['tail', '--profile', 'bob', '--no-follow', '-n', '1']);
    assert.match(tail.stdout, /\* connected to alice \(/);
    json(await home.run(['disconnect', '--profile', 'alice', '--json']));
  }

  before(async () => {
    home = await ChatHome.create();
    // --accept any: these are the bounds that hold when every key may connect; by default a
    // stranger is refused before any of them is asked (test/daemon/consent.test.ts).
    bob = await home.startDaemon('bob', ['--accept', 'any']);
    await home.startDaemon('alice');
    bobFingerprint = json<{ fingerprint: string }>(await home.run(['id', '--profile', 'bob', '--json'])).fingerprint;
    json(await home.run(['connect', '--profile', 'alice', String(bob.port), '--json']));
    json(await home.run(['disconnect', '--profile', 'alice', '--json']));
    forger = await createTestIdentity();
    for (let i = 0; i < FRESH_IDENTITIES; i++) fresh.push(await createTestIdentity());
  });
  after(async () => {
    await home.cleanup();
    for (const identity of [forger, ...fresh]) await identity?.remove();
  });

  test('a dialler that says BYE "identity: …" after our HELLO records no "refused us", however many', async () => {
    const before = (await peerEvents()).length;
    for (let i = 0; i < REFUSAL_EVENTS_PER_MINUTE + 10; i++) {
      const peer = await connectTlsPeer(bob.port, forger);
      peer.autoConfirm = false;
      peer.hello({ name: `forger-${i}` });
      await peer.waitFor('hello');
      peer.send({ kind: 'bye', reason: 'identity: forged', code: 'identity' });
      await peer.waitClosed();
    }
    const events = (await peerEvents()).slice(before);
    assert.deepEqual(events, [], 'a connection we did not dial is just a disconnect');
    const tail = await home.run(['tail', '--profile', 'bob', '--no-follow', '-n', '100']);
    assert.doesNotMatch(tail.stdout, /refused us/);
    assert.match(readFileSync(path.join(home.profileDir('bob'), 'chatd.log'), 'utf8'), /dropped before handshake: "peer left: identity: forged"/);
    assert.ok(isAlive(bob.pid));
  });

  test('a listener we dialled that refuses our key is recorded (within the refusal budget), its reason clipped', async () => {
    const listener = await createTestIdentity();
    const server = tls.createServer({
      key: listener.key, cert: listener.cert, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3', ALPNProtocols: [PEER_ALPN],
    });
    const accepted: FramePeer[] = [];
    const longRefusal = `identity: the key of "bob" has changed ${'y'.repeat(900)}`;
    server.on('secureConnection', (socket) => {
      const peer = new FramePeer(socket);
      peer.autoConfirm = false;
      accepted.push(peer);
      peer.waitFor('hello').then(() => {
        peer.send({ kind: 'bye', reason: longRefusal, code: 'identity' });
        socket.end();
      }, () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as { port: number }).port;
      const result = await home.run(['connect', '--profile', 'bob', String(port)]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^chat: 127\\.0\\.0\\.1:${port} refused us: identity: `));
      const refused = (await peerEvents()).filter((event) => event.state === 'refused' && event.direction === 'out');
      assert.equal(refused.length, 1, 'the refusal of our dial is in the history');
      assert.equal(refused[0]!.from, `127.0.0.1:${port}`, 'an unknown key is named by the address we dialled');
      assert.equal(refused[0]!.fingerprint, listener.fingerprint);
      assert.equal(
        refused[0]!.reason,
        `127.0.0.1:${port} refused us: ${longRefusal.slice(0, MAX_LOGGED_PEER_TEXT_BYTES)}… (${longRefusal.length} bytes, clipped)`,
      );
      assert.notEqual(refused[0]!.fingerprint, bobFingerprint);
    } finally {
      for (const peer of accepted) peer.close();
      server.close();
      await listener.remove();
    }
  });

  test(`${FRESH_IDENTITIES} fresh keys and names: at most ${NEW_PINS_PER_HOUR} pinned, the history bounded and clipped`, async (t) => {
    const before = (await peerEvents()).length;
    const started = Date.now();
    const outcomes: string[] = [];
    for (const [i, identity] of fresh.entries()) outcomes.push(await connectAndLeave(bob.port, identity, `churn-${i}`));
    const connected = outcomes.filter((outcome) => outcome === 'connected').length;
    const refusals = outcomes.filter((outcome) => outcome !== 'connected');
    t.diagnostic(`${FRESH_IDENTITIES} connections in ${Date.now() - started} ms: ${connected} connected, ${refusals.length} refused`);
    // alice's first connection to bob (in `before`) was the hour's first new pin on bob.
    assert.equal(connected, NEW_PINS_PER_HOUR - 1, 'strangers get the rest of the hour\'s new pins, and no more');
    for (const reason of refusals) {
      assert.match(reason, /^busy: not pinning a new peer name: this daemon pinned 60 new names this hour, .*; try again in \d+ min$/);
    }

    const pins = pinnedNames();
    assert.equal(pins.length, NEW_PINS_PER_HOUR, 'alice and the strangers of this hour');
    assert.ok(pins.includes('alice'), 'the real peer keeps its pin');

    const events = (await peerEvents()).slice(before);
    const count = (state: string) => events.filter((event) => event.state === state).length;
    t.diagnostic(`peer events: ${count('connected')} connected, ${count('disconnected')} disconnected, ${count('refused')} refused`);
    assert.equal(count('connected'), connected, 'each first contact is shown');
    assert.equal(count('disconnected'), connected);
    assert.ok(count('refused') <= REFUSAL_EVENTS_PER_MINUTE, `${count('refused')} refusals recorded, budget ${REFUSAL_EVENTS_PER_MINUTE}`);
    assert.ok(count('refused') > 0, 'the refusals are shown up to the budget');
    for (const event of events) {
      const reason = String(event.reason ?? '');
      assert.ok(Buffer.byteLength(reason) <= STORED_REASON_BOUND, `stored reason of ${Buffer.byteLength(reason)} bytes: ${reason}`);
    }
    const largest = Math.max(...events.map((event) => Buffer.byteLength(JSON.stringify(event))));
    t.diagnostic(`largest peer event: ${largest} bytes of JSON`);
    assert.ok(largest <= 1024, `a peer event of ${largest} bytes`);
    const disconnect = events.find((event) => event.state === 'disconnected')!;
    assert.equal(disconnect.reason, `peer left: ${LONG_REASON.slice(0, MAX_LOGGED_PEER_TEXT_BYTES - 'peer left: '.length)}… (${LONG_REASON.length + 11} bytes, clipped)`);

    assert.ok(isAlive(bob.pid), 'the daemon is still running');
    await assertRealPeerConnects();
  });

  test('a pinned key reconnecting in a loop: its connections recorded within the per-key budget; the real peer still shows', async () => {
    // churn-0 was pinned in the test before.
    const before = (await peerEvents()).length;
    const loops = CONNECTIONS_PER_KEY_PER_MINUTE + 20;
    for (let i = 0; i < loops; i++) assert.equal(await connectAndLeave(bob.port, fresh[0]!, 'churn-0'), 'connected');
    const events = (await peerEvents()).slice(before);
    const connected = events.filter((event) => event.state === 'connected').length;
    const disconnected = events.filter((event) => event.state === 'disconnected').length;
    assert.ok(connected <= CONNECTIONS_PER_KEY_PER_MINUTE, `${connected} of ${loops} connections recorded, budget ${CONNECTIONS_PER_KEY_PER_MINUTE} per key`);
    assert.equal(disconnected, connected, 'each recorded connection has its disconnect, and no other');
    assert.ok(isAlive(bob.pid));
    await assertRealPeerConnects();
  });

  test('stopping the daemon logs what the budget kept out of the history', async () => {
    const stopped = await home.run(['daemon', 'stop', '--profile', 'bob']);
    assert.equal(stopped.code, 0, stopped.stderr);
    const log = readFileSync(path.join(home.profileDir('bob'), 'chatd.log'), 'utf8');
    const summary = `not recorded in the history in the last minute, churn: \\d+ connections of pinned keys \\(over ${CONNECTIONS_PER_MINUTE} a minute, ` +
      `${CONNECTIONS_PER_KEY_PER_MINUTE} per key\\) and \\d+ refused connections \\(over ${REFUSAL_EVENTS_PER_MINUTE} a minute\\)`;
    assert.match(log, new RegExp(summary));
  });
});
