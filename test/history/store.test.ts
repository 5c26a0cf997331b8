import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import type { ChatEvent, NewEvent } from '../../src/history/events.ts';
import { openHistory, type HistoryStore } from '../../src/history/store.ts';

const ID = '3f2b8c1e-9a4d-4e6f-8b7a-0c1d2e3f4a5b';

function message(n: number, text = `message ${n}`): NewEvent {
  return {
    type: 'message',
    time: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
    direction: n % 2 === 0 ? 'out' : 'in',
    from: n % 2 === 0 ? 'alice' : 'bob',
    to: n % 2 === 0 ? 'bob' : 'alice',
    id: ID.slice(0, -4) + String(n).padStart(4, '0'),
    text,
  };
}

function texts(events: ChatEvent[]): string[] {
  return events.map((event) => (event.type === 'message' ? event.text : `<${event.type}>`));
}

describe('HistoryStore', { timeout: 30_000 }, () => {
  let root: string;
  let fileCounter = 0;
  const open: HistoryStore[] = [];

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'chat-history-'));
  });

  after(async () => {
    for (const store of open) {
      try {
        store.close();
      } catch {
        // already closed by the test
      }
    }
    await rm(root, { recursive: true, force: true });
  });

  /** A new database file per test; stores are closed in after() even when a test fails. */
  function freshFile(): string {
    return path.join(root, `history-${++fileCounter}.db`);
  }

  function openStore(file: string): HistoryStore {
    const store = openHistory(file);
    open.push(store);
    return store;
  }

  /** A store holding messages 1..count. */
  function storeWith(count: number): { store: HistoryStore; file: string } {
    const file = freshFile();
    const store = openStore(file);
    for (let n = 1; n <= count; n++) store.append(message(n));
    return { store, file };
  }

  test('an empty history has no events', () => {
    const store = openStore(freshFile());
    assert.deepEqual(store.latest(10), []);
    assert.deepEqual(store.after(0, 10), []);
  });

  test('append returns the event with seq 1, 2, 3, ... strictly increasing', () => {
    const store = openStore(freshFile());
    const seqs: number[] = [];
    for (let n = 1; n <= 20; n++) {
      const event = message(n);
      const stored = store.append(event);
      assert.deepEqual(stored, { seq: n, ...event });
      seqs.push(stored.seq);
    }
    assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i + 1));
  });

  test('latest(n) returns the newest n, oldest first', () => {
    const { store } = storeWith(10);
    const latest = store.latest(3);
    assert.deepEqual(latest.map((event) => event.seq), [8, 9, 10]);
    assert.deepEqual(texts(latest), ['message 8', 'message 9', 'message 10']);
    assert.deepEqual(latest[0], { seq: 8, ...message(8) });
  });

  test('latest(n) with n above the count returns everything; latest(0) nothing', () => {
    const { store } = storeWith(4);
    assert.deepEqual(store.latest(100).map((event) => event.seq), [1, 2, 3, 4]);
    assert.deepEqual(store.latest(0), []);
  });

  test('after(seq, limit) pages forward through the history', () => {
    const { store } = storeWith(10);
    assert.deepEqual(store.after(0, 3).map((event) => event.seq), [1, 2, 3]);
    assert.deepEqual(store.after(3, 3).map((event) => event.seq), [4, 5, 6]);
    assert.deepEqual(store.after(8, 5).map((event) => event.seq), [9, 10]);
    assert.deepEqual(store.after(10, 5), []);
    assert.deepEqual(store.after(4, 0), []);
    assert.deepEqual(store.after(5, 1), [{ seq: 6, ...message(6) }]);
    const paged: number[] = [];
    for (let seq = 0, page = store.after(seq, 4); page.length > 0; seq = page.at(-1)!.seq, page = store.after(seq, 4)) {
      paged.push(...page.map((event) => event.seq));
    }
    assert.deepEqual(paged, Array.from({ length: 10 }, (_, i) => i + 1));
  });

  test('before(seq, limit) pages backward, each page oldest first', () => {
    const { store } = storeWith(10);
    assert.deepEqual(store.before(11, 3).map((event) => event.seq), [8, 9, 10]);
    assert.deepEqual(store.before(8, 3).map((event) => event.seq), [5, 6, 7]);
    assert.deepEqual(store.before(3, 5).map((event) => event.seq), [1, 2]);
    assert.deepEqual(store.before(1, 5), []);
    assert.deepEqual(store.before(6, 1), [{ seq: 5, ...message(5) }]);
  });

  test('history survives close and reopen, and seq continues where it stopped', () => {
    const { store, file } = storeWith(5);
    const beforeClose = store.latest(10);
    store.close();
    const reopened = openStore(file);
    assert.deepEqual(reopened.latest(10), beforeClose);
    assert.equal(reopened.append(message(6)).seq, 6);
    assert.deepEqual(reopened.after(4, 10).map((event) => event.seq), [5, 6]);
  });

  test('seq is never reused, even after the newest rows are deleted', () => {
    const { store, file } = storeWith(3);
    store.close();
    const db = new DatabaseSync(file);
    try {
      db.exec('DELETE FROM events WHERE seq = 3');
    } finally {
      db.close();
    }
    const reopened = openStore(file);
    assert.equal(reopened.append(message(4)).seq, 4);
  });

  test('the database uses WAL journal mode', () => {
    const { store, file } = storeWith(1);
    const check = (): string => {
      const db = new DatabaseSync(file);
      try {
        return (db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode;
      } finally {
        db.close();
      }
    };
    assert.equal(check(), 'wal', 'while the store is open');
    store.close();
    assert.equal(check(), 'wal', 'after the store is closed');
  });

  test('a database from a newer schema is refused', () => {
    const file = freshFile();
    const db = new DatabaseSync(file);
    db.exec('PRAGMA user_version = 99');
    db.close();
    assert.throws(() => openStore(file), /newer/);
  });

  test('unicode and multi-line text round-trips exactly, also after reopen', () => {
    const file = freshFile();
    const store = openStore(file);
    const samples = [
      'héllo wörld — ñ',
      '日本語とEnglish混在',
      '😀👩‍👩‍👧‍👦🏳️‍🌈 emoji with ZWJ sequences',
      'line one\nline two\r\nline three\n',
      '\ttabs\tand "quotes" and \\backslashes\\ and \'single\'',
      'NUL\u0000inside and ESC\u001b[31m and DEL\u007f',
      'lone surrogates \ud800 and \udfff',
      '\u202eright-to-left override',
      '   leading and trailing spaces   ',
      '{"looks":"like json"}',
      'x'.repeat(256 * 1024),
    ];
    const stored = samples.map((text, i) => store.append(message(i + 1, text)));
    assert.deepEqual(texts(store.latest(samples.length)), samples);
    assert.deepEqual(store.latest(samples.length), stored);
    store.close();
    assert.deepEqual(texts(openStore(file).latest(samples.length)), samples);
  });

  test('file and peer events round-trip exactly', () => {
    const file = freshFile();
    const store = openStore(file);
    const events: NewEvent[] = [
      {
        type: 'file',
        time: '2025-06-01T12:00:00.000Z',
        direction: 'in',
        from: 'bob',
        to: 'alice',
        id: ID,
        name: 'résumé (1).pdf',
        size: Number.MAX_SAFE_INTEGER,
        sha256: 'ab'.repeat(32),
        path: '/home/alice/Downloads/résumé (1).pdf',
      },
      {
        type: 'file',
        time: '2025-06-01T12:00:01.000Z',
        direction: 'out',
        from: 'alice',
        to: 'bob',
        id: ID,
        name: 'empty',
        size: 0,
        sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        path: '/tmp/empty',
      },
      { type: 'peer', time: '2025-06-01T12:00:02.000Z', direction: 'out', from: 'alice', to: 'bob', state: 'connected', address: '127.0.0.1:4567' },
      {
        type: 'peer',
        time: '2025-06-01T12:00:03.000Z',
        direction: 'in',
        from: 'bob',
        to: 'alice',
        state: 'disconnected',
        address: '[::1]:4567',
        reason: 'connection reset',
      },
    ];
    for (const event of events) store.append(event);
    const expected = events.map((event, i) => ({ seq: i + 1, ...event }));
    assert.deepEqual(store.latest(10), expected);
    assert.ok(!('reason' in store.latest(10)[2]!), 'an absent optional field stays absent');
    store.close();
    assert.deepEqual(openStore(file).after(0, 10), expected);
  });
});
