// The messages table (src/history/message-ledger.ts): the outbox a sender keeps in its history,
// and the de-duplication a receiver keeps there, across reopening the file (a daemon restart).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import type { MessageEvent, MessageStateEvent } from '../../src/history/events.ts';
import { openHistory, type HistoryStore } from '../../src/history/store.ts';

const BOB = 'b0'.repeat(32);
const CAROL = 'c0'.repeat(32);
const MALLORY = 'ee'.repeat(32);

type Out = Omit<MessageEvent, 'seq'> & { direction: 'out'; fingerprint: string };
type In = Omit<MessageEvent, 'seq'> & { direction: 'in' };

function outgoing(text: string, to = 'bob', fingerprint = BOB, id: string = randomUUID()): Out {
  return { type: 'message', direction: 'out', id, time: new Date().toISOString(), from: 'alice', to, text, fingerprint };
}

function incoming(text: string, id: string = randomUUID(), from = 'bob'): In {
  return { type: 'message', direction: 'in', id, time: '2026-01-02T03:04:05.678+01:00', from, to: 'alice', text };
}

function stateChange(id: string, state: MessageStateEvent['state'], fingerprint = BOB): Omit<MessageStateEvent, 'seq'> {
  return { type: 'message-state', direction: 'out', id, time: new Date().toISOString(), from: 'alice', to: 'bob', fingerprint, state };
}

describe('message ledger: outbox and de-duplication', { timeout: 30_000 }, () => {
  let root: string;
  let counter = 0;
  const open = new Set<HistoryStore>();

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'chat-ledger-'));
  });
  after(async () => {
    for (const store of open) store.close();
    await rm(root, { recursive: true, force: true });
  });

  function fresh(): { store: HistoryStore; file: string } {
    const file = path.join(root, `history-${++counter}.db`);
    return { store: reopen(file), file };
  }
  function reopen(file: string): HistoryStore {
    const store = openHistory(file);
    open.add(store);
    return store;
  }
  function close(store: HistoryStore): void {
    store.close();
    open.delete(store);
  }

  test('queued messages come back per key, in the order they were queued, from a seq on', () => {
    const { store } = fresh();
    const ledger = store.messages;
    const queued = ['one', 'two', 'three'].map((text) => ledger.queue(outgoing(text)));
    ledger.queue(outgoing('for carol', 'carol', CAROL));
    ledger.queue(outgoing('four'));
    const forBob = ledger.queued(BOB, 0, 100);
    assert.deepEqual(forBob.map((message) => message.text), ['one', 'two', 'three', 'four']);
    assert.ok(forBob.every((message) => message.state === 'queued' && message.fingerprint === BOB && message.to === 'bob'));
    assert.deepEqual(ledger.queued(BOB, queued[1]!.seq, 100).map((message) => message.text), ['three', 'four']);
    assert.deepEqual(ledger.queued(BOB, 0, 2).map((message) => message.text), ['one', 'two']);
    assert.deepEqual(ledger.queued(CAROL, 0, 100).map((message) => message.text), ['for carol']);
    assert.deepEqual(ledger.queued(MALLORY, 0, 100), [], 'a key nobody wrote to has nothing');
    assert.deepEqual(ledger.queuedPeers(), [
      { fingerprint: BOB, name: 'bob', count: 4 },
      { fingerprint: CAROL, name: 'carol', count: 1 },
    ]);
    // The history itself holds each once, as queued, with its key.
    const events = store.after(0, 100);
    assert.equal(events.length, 5);
    assert.ok(events.every((event) => event.type === 'message' && event.state === 'queued' && event.fingerprint !== undefined));
  });

  test('an outgoing id is used once, whoever it was for', () => {
    const { store } = fresh();
    const message = outgoing('hello');
    store.messages.queue(message);
    assert.throws(() => store.messages.queue({ ...message, to: 'carol', fingerprint: CAROL }), /in the history already/);
    assert.equal(store.messages.outgoing(message.id)?.text, 'hello');
    assert.equal(store.messages.outgoing(randomUUID()), undefined);
  });

  test('delivered and dropped: recorded once as a state event, and out of the queue', () => {
    const { store } = fresh();
    const ledger = store.messages;
    const [a, b, c] = ['a', 'b', 'c'].map((text) => outgoing(text));
    for (const message of [a!, b!, c!]) ledger.queue(message);
    const delivered = ledger.settle(stateChange(a!.id, 'delivered'));
    assert.equal(delivered?.type, 'message-state');
    assert.equal(ledger.settle(stateChange(a!.id, 'delivered')), undefined, 'a second ACK records nothing');
    assert.equal(ledger.settle(stateChange(a!.id, 'dropped')), undefined, 'a delivered message cannot be dropped');
    assert.ok(ledger.settle(stateChange(b!.id, 'dropped')));
    assert.deepEqual(ledger.queued(BOB, 0, 10).map((message) => message.text), ['c']);
    // Dropped while it was on its way, and it arrived: the history says so.
    assert.ok(ledger.settle(stateChange(b!.id, 'delivered')));
    assert.equal(ledger.outgoing(b!.id)?.state, 'delivered');
    assert.equal(ledger.settle(stateChange(randomUUID(), 'delivered')), undefined, 'an unknown id records nothing');
    const states = store.after(0, 100).filter((event) => event.type === 'message-state').map((event) => (event as MessageStateEvent).state);
    assert.deepEqual(states, ['delivered', 'dropped', 'delivered']);
  });

  test('a message received again from the same key is recorded once; from another key, or our own id, it is new', () => {
    const { store } = fresh();
    const ledger = store.messages;
    const message = incoming('hi');
    assert.ok(ledger.receive(message, BOB));
    assert.equal(ledger.receive(message, BOB), undefined);
    assert.equal(ledger.receive({ ...message, text: 'changed text, same id' }, BOB), undefined, 'the id decides, not the text');
    // Another key cannot make us skip bob's messages by using their ids, nor ours.
    assert.ok(ledger.receive({ ...message, from: 'mallory' }, MALLORY));
    const ours = outgoing('mine');
    ledger.queue(ours);
    assert.ok(ledger.receive(incoming('same id as ours', ours.id), BOB));
    const texts = store.after(0, 100).map((event) => (event.type === 'message' ? event.text : event.type));
    assert.deepEqual(texts, ['hi', 'hi', 'mine', 'same id as ours']);
  });

  test('the outbox and the de-duplication survive a restart (they are in the file)', () => {
    const { store, file } = fresh();
    const waiting = outgoing('still waiting');
    store.messages.queue(waiting);
    const received = incoming('got it');
    store.messages.receive(received, BOB);
    close(store);

    const again = reopen(file);
    assert.deepEqual(again.messages.queued(BOB, 0, 10).map((message) => message.id), [waiting.id]);
    assert.equal(again.messages.receive(received, BOB), undefined, 'still known after the restart');
  });

  test('the look-ups use indexes, so they stay cheap however long the history grows', () => {
    const { store, file } = fresh();
    for (let i = 0; i < 50; i++) store.messages.receive(incoming(`m${i}`), BOB);
    close(store);
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const plan = (sql: string) => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all().map((row) => String((row as { detail: string }).detail)).join('; ');
      assert.match(plan("SELECT seq FROM messages WHERE direction = 'in' AND id = x'00' AND peer = 1"), /SEARCH messages USING PRIMARY KEY/);
      assert.match(plan("SELECT seq FROM messages WHERE peer = 1 AND state = 'queued' AND seq > 0 ORDER BY seq LIMIT 5"), /USING (COVERING )?INDEX messages_queued/);
      assert.doesNotMatch(plan("SELECT seq FROM messages WHERE direction = 'out' AND id = x'00'"), /^SCAN/);
    } finally {
      db.close();
    }
  });

  test('a history of schema 1 is upgraded in place: its events are kept, the outbox starts empty', () => {
    const file = path.join(root, 'schema-1.db');
    const db = new DatabaseSync(file);
    db.exec(`
      PRAGMA journal_mode = WAL;
      CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL);
      PRAGMA user_version = 1;
    `);
    db.prepare('INSERT INTO events (time, type, body) VALUES (?, ?, ?)').run('2025-01-01T00:00:00.000Z', 'message', JSON.stringify({
      type: 'message', direction: 'in', id: randomUUID(), time: '2025-01-01T00:00:00.000Z', from: 'bob', to: 'alice', text: 'old',
    }));
    db.close();
    const store = reopen(file);
    assert.equal(store.latest(10).length, 1);
    assert.deepEqual(store.messages.queuedPeers(), []);
    assert.ok(store.messages.receive(incoming('new'), BOB));
    close(store);
    const check = new DatabaseSync(file, { readOnly: true });
    assert.equal((check.prepare('PRAGMA user_version').all()[0] as { user_version: number }).user_version, 3);
    check.close();
  });

  test('a history of schema 2 loses its second record of the last peer (last_peer.json is the one) and keeps its outbox', () => {
    const file = path.join(root, 'schema-2.db');
    const first = reopen(file);
    const waiting = outgoing('still waiting');
    first.messages.queue(waiting);
    close(first);
    const db = new DatabaseSync(file);
    db.exec(`
      CREATE TABLE last_peer (only INTEGER PRIMARY KEY CHECK (only = 1), fingerprint TEXT NOT NULL, name TEXT NOT NULL, time TEXT NOT NULL);
      PRAGMA user_version = 2;
    `);
    db.close();
    const store = reopen(file);
    assert.deepEqual(store.messages.queued(BOB, 0, 10).map((message) => message.id), [waiting.id]);
    close(store);
    const check = new DatabaseSync(file, { readOnly: true });
    assert.equal((check.prepare('PRAGMA user_version').all()[0] as { user_version: number }).user_version, 3);
    assert.deepEqual(check.prepare("SELECT name FROM sqlite_master WHERE name = 'last_peer'").all(), []);
    check.close();
  });
});
