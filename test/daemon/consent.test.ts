// The consent rule (src/daemon/consent.ts) as one real ChatDaemon in this process applies it on
// each path a connection takes: first contact, a stranger once a key is pinned, the same peer
// again (under another name too), an invite (used once, expiring, raced by two strangers), a peer
// this daemon dialled (and the same peer dialling back after refusing our dial), and
// `--accept known` with `peers.add`. The pure rule is checked first, case by case.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, afterEach, before, describe, test } from 'node:test';
import { ControlError } from '../../src/control/client.ts';
import { ErrorCode } from '../../src/control/protocol.ts';
import { decideConsent, type ConsentInput } from '../../src/daemon/consent.ts';
import { DIALLED_CONSENT_MS, DialledKeys, MAX_DIALLED_KEYS } from '../../src/daemon/dialled-keys.ts';
import { Invitation } from '../../src/daemon/invitation.ts';
import { KnownPeers } from '../../src/identity/known-peers.ts';
import { PEER_ALPN } from '../../src/peer/secure-transport.ts';
import type { PeerInfo } from '../../src/peer/session.ts';
import { startInProcessDaemon, type InProcessDaemon } from '../helpers/daemon-in-process.ts';
import { FramePeer } from '../helpers/frame-peer.ts';
import { connectTlsPeer, createTestIdentity } from '../helpers/tls-peer.ts';

type TestIdentity = Awaited<ReturnType<typeof createTestIdentity>>;

const NOT_ACCEPTING = 'busy: alice is not accepting new peers; ask alice to run: chat invite';
const key = (i: number) => i.toString(16).padStart(64, '0');

describe('the consent rule, case by case', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-consent-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const pins = (count: number) => {
    const known = KnownPeers.open(path.join(dir, `known-${files++}.json`));
    for (let i = 0; i < count; i++) known.remember(`peer-${i}`, key(i), '2026-01-01T00:00:00.000Z');
    return known;
  };
  const peer = (name: string, fingerprint: string, direction: 'in' | 'out' = 'in'): PeerInfo =>
    ({ name, instance: 'i', version: 4, listenPort: 7002, address: '127.0.0.1:40000', direction, fingerprint });
  const decide = (input: Partial<ConsentInput> & Pick<ConsentInput, 'candidate' | 'knownPeers'>) =>
    decideConsent({ ownName: 'alice', mode: 'invited', dialled: false, inviteOpen: false, ...input });

  test('invited (the default): first contact, our own dial, or an open invite; otherwise the hint', () => {
    const none = pins(0);
    const one = pins(1);
    assert.deepEqual(decide({ candidate: peer('bob', key(50)), knownPeers: none }), { allowed: true, ground: 'firstContact' });
    assert.deepEqual(decide({ candidate: peer('carol', key(51)), knownPeers: one }), {
      allowed: false, reason: 'alice is not accepting new peers; ask alice to run: chat invite',
    });
    assert.deepEqual(decide({ candidate: peer('carol', key(51)), knownPeers: one, dialled: true }), { allowed: true, ground: 'dialled' });
    assert.deepEqual(decide({ candidate: peer('carol', key(51)), knownPeers: one, inviteOpen: true }), { allowed: true, ground: 'invite' });
    // Our own dial does not use up the invite meant for someone else.
    assert.deepEqual(decide({ candidate: peer('carol', key(51)), knownPeers: one, inviteOpen: true, dialled: true }), { allowed: true, ground: 'dialled' });
    assert.deepEqual(decide({ candidate: peer('peer-0', key(0)), knownPeers: one }), { allowed: true, ground: 'pinned' });
    // The key is who it is: a pinned key under a new name is no stranger.
    assert.deepEqual(decide({ candidate: peer('robert', key(0)), knownPeers: one }), { allowed: true, ground: 'pinned' });
  });

  test('known: pinned keys only, even on first contact and for our own dial; any: every key', () => {
    const none = pins(0);
    const refused = decide({ candidate: peer('bob', key(50), 'out'), knownPeers: none, mode: 'known', dialled: true, inviteOpen: true });
    assert.equal(refused.allowed, false);
    assert.equal(!refused.allowed && refused.reason,
      `alice accepts only peers it has pinned (--accept known); to let this key in, alice runs: chat peers add "bob" --fingerprint ${key(50)}`);
    assert.deepEqual(decide({ candidate: peer('peer-0', key(0)), knownPeers: pins(1), mode: 'known' }), { allowed: true, ground: 'pinned' });
    assert.deepEqual(decide({ candidate: peer('carol', key(51)), knownPeers: pins(1), mode: 'any' }), { allowed: true, ground: 'any' });
  });

  test('an invite is open until its time is up or it is closed', () => {
    const invite = new Invitation();
    assert.equal(invite.isOpen(1000), false);
    assert.deepEqual(invite.open(600_000, 1000), { expiresAt: new Date(601_000).toISOString(), expiresInMs: 600_000 });
    assert.equal(invite.isOpen(600_999), true);
    assert.equal(invite.isOpen(601_000), false, 'past its time it refuses');
    assert.equal(invite.summary(601_000), null);
    invite.open(10, 2000);
    assert.equal(invite.close(2005), true);
    assert.equal(invite.close(2005), false);
  });

  test('a dial consents its key for DIALLED_CONSENT_MS; at most MAX_DIALLED_KEYS are kept', () => {
    const keys = new DialledKeys();
    keys.add(key(1), 0);
    assert.equal(keys.has(key(1), DIALLED_CONSENT_MS - 1), true);
    assert.equal(keys.has(key(1), DIALLED_CONSENT_MS), false);
    for (let i = 0; i <= MAX_DIALLED_KEYS; i++) keys.add(key(100 + i), 10);
    assert.equal(keys.has(key(100), 20), false, 'the oldest is forgotten past the cap');
    assert.equal(keys.has(key(100 + MAX_DIALLED_KEYS), 20), true);
  });
});

describe('the consent rule of an in-process daemon, on every path', { timeout: 90_000 }, () => {
  let bob: TestIdentity;
  let carol: TestIdentity;
  let dave: TestIdentity;
  let erin: TestIdentity;
  let alice: InProcessDaemon;
  const peers: FramePeer[] = [];
  const servers: tls.Server[] = [];

  before(async () => {
    [bob, carol, dave, erin] = await Promise.all(Array.from({ length: 4 }, () => createTestIdentity())) as [TestIdentity, TestIdentity, TestIdentity, TestIdentity];
    alice = await startInProcessDaemon({ name: 'alice' });
  });
  afterEach(() => {
    for (const peer of peers.splice(0)) peer.close();
    for (const server of servers.splice(0)) server.close();
  });
  after(async () => {
    await alice?.cleanup();
    await Promise.all([bob, carol, dave, erin].map((identity) => identity?.remove()));
  });

  async function dialIn(identity: TestIdentity, name: string, node = alice): Promise<FramePeer> {
    const peer = await connectTlsPeer(node.port, identity);
    peers.push(peer);
    peer.hello({ name });
    return peer;
  }

  /** Dials in as `name` and waits until the daemon's history has it connected. */
  async function connected(identity: TestIdentity, name: string, node = alice): Promise<FramePeer> {
    const since = node.history.events.length;
    const peer = await dialIn(identity, name, node);
    await peer.waitFor('pong', (pong) => pong.nonce === 0);
    await node.history.waitFor((event) => event.type === 'peer' && event.state === 'connected' && event.fingerprint === identity.fingerprint, `${name} connected`, { since });
    return peer;
  }

  /** Dials in as `name`, expects a refusal at its HELLO and the `refused` event; resolves with the BYE. */
  async function refused(identity: TestIdentity, name: string, node = alice) {
    const since = node.history.events.length;
    const peer = await dialIn(identity, name, node);
    const bye = await peer.waitFor('bye');
    // Closed from our side: the daemon would wait its BYE linger (2 s) for a peer that stays.
    peer.close();
    assert.equal(peer.frames.some((frame) => frame.kind === 'hello'), false, 'refused at its HELLO, before ours');
    const event = await node.history.waitFor((e) => e.type === 'peer' && e.state === 'refused', `${name} refused`, { since });
    assert.ok(event.type === 'peer');
    assert.deepEqual({ from: event.from, fingerprint: event.fingerprint, reason: event.reason }, { from: name, fingerprint: identity.fingerprint, reason: bye.reason });
    return bye;
  }

  async function disconnected(peer: FramePeer, node = alice): Promise<void> {
    const since = node.history.events.length;
    peer.close();
    await node.history.waitFor((event) => event.type === 'peer' && event.state === 'disconnected', 'the disconnection', { since });
  }

  /** A TLS listener with `identity`'s key: answers HELLO as `name`, or refuses with `refuse` as a busy BYE. */
  async function listenAs(identity: TestIdentity, name: string, refuse?: string): Promise<number> {
    const server = tls.createServer({
      key: identity.key, cert: identity.cert, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3', ALPNProtocols: [PEER_ALPN],
    });
    servers.push(server);
    server.on('secureConnection', (socket) => {
      const peer = new FramePeer(socket);
      peer.autoConfirm = false;
      peers.push(peer);
      peer.waitFor('hello').then(() => (refuse ? peer.send({ kind: 'bye', reason: refuse, code: 'busy' }) : peer.hello({ name })), () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as { port: number }).port;
  }

  test('first contact on a fresh daemon is accepted as before; then a stranger is refused with the hint, connected or not', async () => {
    const first = await connected(bob, 'bob');
    assert.equal(alice.knownPeers.hasKey(bob.fingerprint), true);
    // While bob holds the slot, a stranger learns it needs an invite, not that the slot is taken.
    const whileConnected = await refused(carol, 'carol');
    assert.deepEqual({ reason: whileConnected.reason, code: whileConnected.code }, { reason: NOT_ACCEPTING, code: 'busy' });
    await disconnected(first);
    // And with the slot free it still may not take it.
    assert.equal((await refused(carol, 'carol')).reason, NOT_ACCEPTING);
    assert.equal(alice.knownPeers.hasKey(carol.fingerprint), false, 'a refused key is not pinned');
    assert.match(alice.log.matching(/refused "carol"/)[0] ?? '', /not accepting new peers/);
  });

  test('the same peer again, reconnecting, and under another name: its key is pinned, so it is let in', async () => {
    const again = await connected(bob, 'bob');
    await disconnected(again);
    const renamed = await connected(bob, 'robert');
    await disconnected(renamed);
  });

  test('an invite lets in exactly one new key; the next is refused again; status shows it while open', async () => {
    const control = await alice.control();
    const opened = await control.request('invite', { forMs: 600_000 });
    assert.equal(opened.fingerprint, alice.identity.fingerprint);
    assert.deepEqual(opened.addresses, [`127.0.0.1:${alice.port}`]);
    const status = await control.request('status', {});
    assert.equal(status.accept, 'invited');
    assert.equal(status.invite?.expiresAt, opened.invite.expiresAt);
    const invited = await connected(carol, 'carol');
    await alice.log.waitFor(/^invite used by "carol"/);
    assert.equal((await control.request('status', {})).invite, null, 'used up');
    await disconnected(invited);
    assert.equal((await refused(dave, 'dave')).reason, NOT_ACCEPTING);
    // carol is pinned now: she comes back without an invite.
    await disconnected(await connected(carol, 'carol'));
  });

  test('an invite past its time refuses; a cancelled one too', async () => {
    const control = await alice.control();
    const { invite } = await control.request('invite', { forMs: 1 });
    const deadline = Date.parse(invite.expiresAt);
    while (Date.now() <= deadline) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(alice.daemon.status().invite, null);
    assert.equal((await refused(dave, 'dave')).reason, NOT_ACCEPTING);
    await control.request('invite', {});
    assert.deepEqual(await control.request('invite.cancel', {}), { cancelled: true });
    assert.deepEqual(await control.request('invite.cancel', {}), { cancelled: false });
    assert.equal((await refused(dave, 'dave')).reason, NOT_ACCEPTING);
  });

  test('two strangers racing for one invite: one gets in, the other is refused', async () => {
    const control = await alice.control();
    await control.request('invite', {});
    const since = alice.history.events.length;
    const [first, second] = await Promise.all([dialIn(dave, 'dave'), dialIn(erin, 'erin')]);
    // Each ends in a confirmation answered (let in) or a BYE (refused, at its HELLO or when it was
    // about to become the peer): wait for the daemon to have decided both, then read what each got.
    const won = await alice.history.waitFor((event) => event.type === 'peer' && event.state === 'connected', 'the winner connected', { since });
    const lost = await alice.history.waitFor((event) => event.type === 'peer' && event.state === 'refused', 'the loser refused', { since });
    assert.ok(won.type === 'peer' && lost.type === 'peer');
    assert.deepEqual([won.fingerprint, lost.fingerprint].sort(), [dave.fingerprint, erin.fingerprint].sort(), 'one each');
    const [winner, loser] = won.fingerprint === dave.fingerprint ? [first, second] : [second, first];
    assert.equal((await loser.waitFor('bye')).reason, NOT_ACCEPTING);
    assert.equal(winner.frames.some((frame) => frame.kind === 'bye'), false);
    assert.equal([dave, erin].filter((identity) => alice.knownPeers.hasKey(identity.fingerprint)).length, 1, 'one new pin');
    await disconnected(winner);
  });

  test('alice dialling a new peer herself needs no invite; a peer that refused her dial may dial back', async () => {
    const control = await alice.control();
    // A new key alice dials: `chat connect` is consent.
    const stranger = await createTestIdentity();
    try {
      const port = await listenAs(stranger, 'frank');
      const result = await control.request('connect', { host: '127.0.0.1', port });
      assert.equal(result.peer.name, 'frank');
      assert.equal(result.peer.listenAddress, null, 'frank announced no listening port');
      await control.request('disconnect', {});
    } finally {
      await stranger.remove();
    }
    // gina refuses alice's dial (her own daemon waits for an invite), then dials alice herself:
    // alice's dial proved gina's key, and consented to it.
    const gina = await createTestIdentity();
    try {
      const port = await listenAs(gina, 'gina', 'busy: gina is not accepting new peers; ask gina to run: chat invite');
      await assert.rejects(control.request('connect', { host: '127.0.0.1', port }), (error: unknown) =>
        error instanceof ControlError && error.code === ErrorCode.busy && /refused: busy: gina is not accepting new peers/.test(error.message));
      await disconnected(await connected(gina, 'gina'));
    } finally {
      await gina.remove();
    }
  });

  test('a dial that reaches another key than --fingerprint (or a redial, which always has one) consents to nobody', async () => {
    const control = await alice.control();
    const squatter = await createTestIdentity();
    try {
      const port = await listenAs(squatter, 'bob');
      await assert.rejects(control.request('connect', { host: '127.0.0.1', port, fingerprint: bob.fingerprint }), (error: unknown) =>
        error instanceof ControlError && error.code === ErrorCode.identityMismatch);
      assert.equal((await refused(squatter, 'squatter')).reason, NOT_ACCEPTING);
    } finally {
      await squatter.remove();
    }
  });

  test('two daemons that both have pinned peers dial each other at once: they end up connected, pinned on both sides', async () => {
    const hank = await startInProcessDaemon({ name: 'hank' });
    try {
      // hank is no fresh daemon either: someone else is pinned there, so neither side lets a stranger in.
      hank.knownPeers.remember('ivy', erin.fingerprint, new Date().toISOString());
      const [aliceControl, hankControl] = await Promise.all([alice.control(), hank.control()]);
      const outcomes = await Promise.allSettled([
        aliceControl.request('connect', { host: '127.0.0.1', port: hank.port }),
        hankControl.request('connect', { host: '127.0.0.1', port: alice.port }),
      ]);
      // Each dial proved the other's key before the other's HELLO arrived: both commands succeed
      // (the two daemons then keep one of the two connections, peer-protocol.md, *Duplicates*).
      assert.deepEqual(outcomes.map((outcome) => outcome.status), ['fulfilled', 'fulfilled'], JSON.stringify(outcomes));
      await alice.history.waitFor((event) => event.type === 'peer' && event.state === 'connected' && event.fingerprint === hank.identity.fingerprint, 'hank connected');
      await hank.history.waitFor((event) => event.type === 'peer' && event.state === 'connected' && event.fingerprint === alice.identity.fingerprint, 'alice connected');
      assert.equal(alice.knownPeers.check('hank', hank.identity.fingerprint).status, 'known');
      assert.equal(hank.knownPeers.check('alice', alice.identity.fingerprint).status, 'known');
      await aliceControl.request('disconnect', {});
    } finally {
      await hank.cleanup();
    }
  });

  test('--accept known: even first contact is refused; peers.add pins exactly that key under that name', async () => {
    const strict = await startInProcessDaemon({ name: 'alice', accept: 'known' });
    try {
      const firstContact = await refused(bob, 'bob', strict);
      assert.equal(firstContact.reason,
        `busy: alice accepts only peers it has pinned (--accept known); to let this key in, alice runs: chat peers add "bob" --fingerprint ${bob.fingerprint}`);
      const control = await strict.control();
      await assert.rejects(control.request('invite', {}), (error: unknown) => error instanceof ControlError && error.code === ErrorCode.notInviting);
      const added = await control.request('peers.add', { name: 'bob', fingerprint: bob.fingerprint.toUpperCase() });
      assert.deepEqual({ name: added.added.name, fingerprint: added.added.fingerprint, alreadyPinned: added.alreadyPinned },
        { name: 'bob', fingerprint: bob.fingerprint, alreadyPinned: false });
      assert.equal((await control.request('peers.add', { name: 'bob', fingerprint: bob.fingerprint })).alreadyPinned, true);
      await assert.rejects(control.request('peers.add', { name: 'bob', fingerprint: carol.fingerprint }),
        (error: unknown) => error instanceof ControlError && error.code === ErrorCode.alreadyPinned && /"bob" is pinned to another key/.test(error.message));
      // Another key under that name is an impostor; another key under its own name is still new.
      assert.match((await refused(carol, 'bob', strict)).reason, /^identity: the key of "bob" has changed/);
      assert.match((await refused(carol, 'carol', strict)).reason, /accepts only peers it has pinned/);
      const peer = await connected(bob, 'bob', strict);
      assert.equal(strict.daemon.status().peer?.name, 'bob');
      await disconnected(peer, strict);
      // Its own dial of a key it has not pinned is refused too, on its side, with the same hint.
      const port = await listenAs(dave, 'dave');
      await assert.rejects(control.request('connect', { host: '127.0.0.1', port }), (error: unknown) =>
        error instanceof ControlError && error.code === ErrorCode.busy && /accepts only peers it has pinned/.test(error.message));
    } finally {
      await strict.cleanup();
    }
  });
});
