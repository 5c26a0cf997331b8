// The outbox (src/daemon/outbox.ts) in one process: a real history, a real PeerSession on a
// loopback socket, and a hand-driven peer that decides which messages it acknowledges.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { EventFeed } from '../../src/daemon/event-feed.ts';
import type { Logger } from '../../src/daemon/logger.ts';
import { MAX_IN_FLIGHT_BYTES, MAX_MESSAGES_IN_FLIGHT, Outbox } from '../../src/daemon/outbox.ts';
import type { OutgoingMessage, Recipient } from '../../src/history/message-ledger.ts';
import { openHistory, type HistoryStore } from '../../src/history/store.ts';
import { PeerSession, type PeerInfo } from '../../src/peer/session.ts';
import type { MessageFrame } from '../../src/wire/frames.ts';
import { MAX_MESSAGE_BYTES } from '../../src/wire/limits.ts';
import { FramePeer } from '../helpers/frame-peer.ts';
import { createSocketPair } from '../helpers/socket-pair.ts';

const BOB = 'b0'.repeat(32);
const CAROL = 'c0'.repeat(32);
const SOON_MS = 10_000;

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, flush: () => undefined };

async function waitUntil(condition: () => boolean, what: string, ms = SOON_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}

describe('outbox', { timeout: 60_000 }, () => {
  let root: string;
  let history: HistoryStore;
  let feed: EventFeed;
  let outbox: Outbox;
  const cleanups: Array<() => Promise<void> | void> = [];

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'chat-outbox-'));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** `intended`: the reconnect target, who messages are for while nobody is connected. */
  function freshOutbox(intended: () => Recipient | undefined = () => undefined): void {
    history = openHistory(path.join(root, `history-${cleanups.length}-${Date.now()}.db`));
    feed = new EventFeed(history, quiet);
    outbox = new Outbox({ name: 'alice', ledger: history.messages, feed, log: quiet, intended });
    cleanups.push(() => feed.close());
  }

  /** A connected session to a peer with this key, and the hand-driven peer at its other end. */
  async function connect(name: string, fingerprint: string): Promise<{ session: PeerSession; peer: FramePeer; info: PeerInfo }> {
    const pair = await createSocketPair();
    cleanups.push(() => pair.close());
    const peer = new FramePeer(pair.server);
    // The session dials: the peer answers its HELLO, as a listener does.
    peer.autoConfirm = false;
    const session = new PeerSession({
      socket: pair.client,
      direction: 'out',
      local: { name: 'alice', instance: crypto.randomUUID(), listenPort: 0 },
      peerFingerprint: () => fingerprint,
      handlers: {
        onMessage: () => undefined,
        acceptFile: () => ({ decline: 'no files here' }),
        onFileReceived: () => undefined,
        onClosed: () => undefined,
        log: () => undefined,
      },
    });
    await peer.waitFor('hello');
    peer.hello({ name });
    const info = await session.ready;
    cleanups.push(() => session.close('test over'));
    return { session, peer, info };
  }

  const messagesOf = (peer: FramePeer) => peer.frames.filter((frame): frame is MessageFrame => frame.kind === 'message');
  const ack = (peer: FramePeer, message: MessageFrame) => peer.send({ kind: 'messageAck', id: message.id });
  const bob = { fingerprint: BOB, name: 'bob' };

  test('queued while nobody is connected; sent in order on connection; after a cut, what was not acknowledged goes again, first', async () => {
    freshOutbox();
    const queued: OutgoingMessage[] = [];
    for (const text of ['one', 'two', 'three', 'four']) queued.push((await outbox.queue(text, bob)).message);
    assert.ok(queued.every((message) => message.state === 'queued'));

    const first = await connect('bob', BOB);
    outbox.attach(first.session, first.info);
    await waitUntil(() => messagesOf(first.peer).length === 4, 'the four messages');
    assert.deepEqual(messagesOf(first.peer).map((message) => message.text), ['one', 'two', 'three', 'four']);
    for (const message of messagesOf(first.peer).slice(0, 2)) ack(first.peer, message);
    await waitUntil(() => outbox.stateOf(queued[1]!.id) === 'delivered', 'two delivered');
    first.peer.close();
    await waitUntil(() => first.session.isClosed, 'the cut');

    const second = await connect('bob', BOB);
    outbox.attach(second.session, second.info);
    // Sent right after the reconnection: behind the resend.
    const late = outbox.queue('five', bob);
    await waitUntil(() => messagesOf(second.peer).length === 3, 'the resend and the new message');
    const resent = messagesOf(second.peer);
    assert.deepEqual(resent.map((message) => message.text), ['three', 'four', 'five']);
    assert.deepEqual(resent.slice(0, 2).map((message) => [message.id, message.time]), queued.slice(2).map((message) => [message.id, message.time]), 'same id, same time');
    for (const message of resent) ack(second.peer, message);
    await late;
    await waitUntil(() => history.messages.queuedPeers().length === 0, 'all delivered');
    const states = history.after(0, 100).filter((event) => event.type === 'message-state');
    assert.equal(states.length, 5, 'each delivered once');
  });

  test('messages queued for bob are never sent to another key that connects', async () => {
    freshOutbox();
    await outbox.queue('for bob only', bob);
    const carol = await connect('carol', CAROL);
    outbox.attach(carol.session, carol.info);
    assert.deepEqual(outbox.recipient(), { fingerprint: CAROL, name: 'carol' }, 'while carol is connected, sends go to her');
    await outbox.queue('for carol', outbox.recipient()!);
    await waitUntil(() => messagesOf(carol.peer).length === 1, 'carol\'s message');
    await delay(100);
    assert.deepEqual(messagesOf(carol.peer).map((message) => message.text), ['for carol']);
    assert.equal(history.messages.queued(BOB, 0, 10).length, 1, 'bob\'s still waits');
  });

  test('while nobody is connected the recipient is the reconnect target, never the last key that happened to connect', async () => {
    let target: Recipient | undefined;
    freshOutbox(() => target);
    assert.equal(outbox.recipient(), undefined, 'nobody yet');
    const carol = await connect('carol', CAROL);
    outbox.attach(carol.session, carol.info);
    carol.peer.close();
    await waitUntil(() => carol.session.isClosed, 'the end');
    assert.equal(outbox.recipient(), undefined, 'carol connected once: not who we mean to reach');
    target = bob;
    assert.deepEqual(outbox.recipient(), bob);
  });

  test(`at most ${MAX_MESSAGES_IN_FLIGHT} messages are unacknowledged at once; each ACK lets one more go`, async () => {
    freshOutbox();
    const total = MAX_MESSAGES_IN_FLIGHT + 50;
    await Promise.all(Array.from({ length: total }, (_, i) => outbox.queue(`m${i}`, bob)));
    const peer = await connect('bob', BOB);
    outbox.attach(peer.session, peer.info);
    await waitUntil(() => messagesOf(peer.peer).length === MAX_MESSAGES_IN_FLIGHT, 'a full window');
    await delay(200);
    assert.equal(messagesOf(peer.peer).length, MAX_MESSAGES_IN_FLIGHT);
    ack(peer.peer, messagesOf(peer.peer)[0]!);
    await waitUntil(() => messagesOf(peer.peer).length === MAX_MESSAGES_IN_FLIGHT + 1, 'one more');
    assert.deepEqual(messagesOf(peer.peer).map((message) => message.text), Array.from({ length: MAX_MESSAGES_IN_FLIGHT + 1 }, (_, i) => `m${i}`));
  });

  test(`large messages: at most ${MAX_IN_FLIGHT_BYTES} bytes of frames unacknowledged, but always one`, async () => {
    freshOutbox();
    const text = 'x'.repeat(MAX_MESSAGE_BYTES);
    for (let i = 0; i < 6; i++) await outbox.queue(text, bob);
    const peer = await connect('bob', BOB);
    outbox.attach(peer.session, peer.info);
    const fits = Math.max(1, Math.floor(MAX_IN_FLIGHT_BYTES / Buffer.byteLength(JSON.stringify(text))));
    await waitUntil(() => messagesOf(peer.peer).length === fits, `${fits} messages`);
    await delay(200);
    assert.equal(messagesOf(peer.peer).length, fits);
    for (const message of messagesOf(peer.peer)) ack(peer.peer, message);
    await waitUntil(() => messagesOf(peer.peer).length === Math.min(6, 2 * fits), 'the next ones');
  });

  test('settled(): delivered once acknowledged; queued when the wait runs out first; dropped messages are not sent', async () => {
    freshOutbox();
    const waiting = (await outbox.queue('wait for me', bob)).message;
    const dropped = (await outbox.queue('never mind', bob)).message;
    assert.equal(await outbox.settled(waiting.id, 50), 'queued');
    const done = await outbox.drop({ id: dropped.id });
    assert.deepEqual(done.map((message) => message.id), [dropped.id]);
    assert.equal(outbox.stateOf(dropped.id), 'dropped');
    const peer = await connect('bob', BOB);
    const settled = outbox.settled(waiting.id, SOON_MS);
    outbox.attach(peer.session, peer.info);
    await waitUntil(() => messagesOf(peer.peer).length === 1, 'the one left');
    ack(peer.peer, messagesOf(peer.peer)[0]!);
    assert.equal(await settled, 'delivered');
    await delay(100);
    assert.deepEqual(messagesOf(peer.peer).map((message) => message.text), ['wait for me']);
  });

  test('a retry with the same id is the same message: nothing new is queued or sent', async () => {
    freshOutbox();
    const id = crypto.randomUUID();
    const first = await outbox.queue('once', bob, id);
    const again = await outbox.queue('once', bob, id);
    assert.equal(first.created, true);
    assert.equal(again.created, false);
    assert.equal(again.message.seq, first.message.seq);
    assert.equal(history.messages.queued(BOB, 0, 10).length, 1);
  });
});
