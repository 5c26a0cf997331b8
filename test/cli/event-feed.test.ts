// The resuming feed behind `chat tail`, and the pages `tail --since` reads, against an in-memory
// daemon whose connections the test closes at will: every event once and in order across
// reconnections and pages, each way it ends, and no page read for a reader that has gone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { followResuming, MAX_RESUME_ATTEMPTS, type FeedEnd } from '../../src/cli/event-feed.ts';
import { eventsAfter } from '../../src/cli/history-pages.ts';
import { DaemonGoneError, DaemonNotRunningError, type ControlClient } from '../../src/control/client.ts';
import type { ChatEvent, HistoryParams, HistoryResult } from '../../src/control/protocol.ts';

const WAIT_MS = 5_000;

/** One connection to the fake daemon: the four calls of ControlClient the feed uses. */
class FakeConnection {
  closed = false;
  subscribed = false;
  private readonly daemon: FakeDaemon;
  private notify: ((event: ChatEvent) => void) | undefined;
  private readonly closeListeners: Array<() => void> = [];

  constructor(daemon: FakeDaemon) {
    this.daemon = daemon;
  }

  onNotification(_method: 'event', handler: (event: ChatEvent) => void): void {
    this.notify = handler;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  close(): void {
    this.closed = true;
  }

  async request(method: string, params: HistoryParams): Promise<unknown> {
    // Answered on a later turn, as over a socket; a connection closed meanwhile fails the call.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.closed) throw new DaemonGoneError(`the daemon closed the connection during "${method}"`);
    if (method === 'subscribe') {
      this.subscribed = true;
      if (this.daemon.closeOnSubscribe) this.drop();
      return { subscribed: true };
    }
    assert.equal(method, 'history');
    return this.daemon.page(params);
  }

  deliver(event: ChatEvent): void {
    if (this.subscribed && !this.closed) this.notify?.(event);
  }

  /** The daemon closes it. */
  drop(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

class FakeDaemon {
  running = true;
  /** Closes every connection as soon as it subscribes: a daemon no feed can follow. */
  closeOnSubscribe = false;
  readonly events: ChatEvent[] = [];
  readonly connections: FakeConnection[] = [];
  /** `history` calls answered so far. */
  pagesRead = 0;
  /** Small pages, so a replay takes several. */
  private readonly pageSize = 3;

  connect = async (): Promise<ControlClient> => {
    if (!this.running) throw new DaemonNotRunningError('/fake/control.sock');
    const connection = new FakeConnection(this);
    this.connections.push(connection);
    return connection as unknown as ControlClient;
  };

  add(count: number): void {
    for (let i = 0; i < count; i++) {
      const seq = this.events.length + 1;
      const event: ChatEvent = { seq, type: 'message', direction: 'in', id: `m${seq}`, time: '2026-01-01T00:00:00.000Z', from: 'alice', to: 'bob', text: `m${seq}` };
      this.events.push(event);
      for (const connection of this.connections) connection.deliver(event);
    }
  }

  /** Like the daemon's `history`: pages cut short (here at pageSize) say `truncated`. */
  page(params: HistoryParams): HistoryResult {
    this.pagesRead++;
    const limit = params.limit ?? 10;
    const matching = params.after !== undefined
      ? this.events.filter((e) => e.seq > params.after!)
      : this.events.filter((e) => params.before === undefined || e.seq < params.before);
    const wanted = params.after !== undefined ? matching.slice(0, limit) : matching.slice(Math.max(0, matching.length - limit));
    const events = params.after !== undefined ? wanted.slice(0, this.pageSize) : wanted.slice(Math.max(0, wanted.length - this.pageSize));
    return { events, truncated: events.length < wanted.length };
  }

  get current(): FakeConnection {
    return this.connections.at(-1)!;
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function follow(daemon: FakeDaemon, start: { latest: number } | { after: number }) {
  const seen: number[] = [];
  const resumedAfter: number[] = [];
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => { stop = resolve; });
  const ended: Promise<FeedEnd> = daemon.connect().then((client) => followResuming({
    client,
    start,
    deliver: (event) => seen.push(event.seq),
    connect: daemon.connect,
    resumed: (seq) => resumedAfter.push(seq),
    stop: stopped,
  }));
  return { seen, resumedAfter, ended, stop: () => stop() };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('followResuming', { timeout: 30_000 }, () => {
  test('closed by the daemon, it reconnects and goes on after the last event: nothing lost, nothing twice', async () => {
    const daemon = new FakeDaemon();
    daemon.add(5);
    const feed = follow(daemon, { latest: 2 });
    await until(() => feed.seen.length === 2, 'the backlog');
    daemon.add(3);
    await until(() => feed.seen.length === 5, 'the notifications');
    // Closed (as for a backlog), while events go on: they are in the history, replayed in pages.
    daemon.current.drop();
    daemon.add(10);
    await until(() => daemon.connections.length === 2 && daemon.current.subscribed, 'the new subscription');
    daemon.add(2);
    await until(() => feed.seen.at(-1) === 20, 'the replay and the new notifications');
    assert.deepEqual(feed.seen, range(4, 20));
    assert.deepEqual(feed.resumedAfter, [8]);
    // Closed again in the middle of its replay: still every event once.
    daemon.current.drop();
    daemon.add(7);
    await until(() => feed.seen.at(-1) === 27, 'the second replay');
    assert.deepEqual(feed.seen, range(4, 27));
    feed.stop();
    assert.deepEqual(await feed.ended, { reason: 'stopped' });
  });

  test('--after: every event after the seq, then the new ones, none before it', async () => {
    const daemon = new FakeDaemon();
    daemon.add(10);
    const feed = follow(daemon, { after: 6 });
    await until(() => feed.seen.length === 4, 'the events after 6');
    daemon.add(1);
    await until(() => feed.seen.length === 5, 'a new one');
    assert.deepEqual(feed.seen, range(7, 11));
    feed.stop();
    await feed.ended;
  });

  test('stopped during its replay, it reads no further page of the past', async () => {
    const daemon = new FakeDaemon();
    daemon.add(30); // ten pages of three
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => { stop = resolve; });
    const seen: number[] = [];
    const client = await daemon.connect();
    const end = await followResuming({
      client,
      start: { after: 0 },
      deliver: (event) => { seen.push(event.seq); stop(); },
      connect: daemon.connect,
      resumed: () => assert.fail('no reconnection'),
      stop: stopped,
    });
    assert.deepEqual(end, { reason: 'stopped' });
    assert.deepEqual(seen, [1, 2, 3], 'the page under way is delivered, no other');
    // The stop reaches the feed as a promise's news: a request may have left before it.
    assert.ok(daemon.pagesRead <= 2, `${daemon.pagesRead} pages read`);
  });

  test('when the daemon is gone, it ends as the daemon having stopped', async () => {
    const daemon = new FakeDaemon();
    const feed = follow(daemon, { latest: 0 });
    await until(() => daemon.current.subscribed, 'the subscription');
    daemon.running = false;
    daemon.current.drop();
    assert.deepEqual(await feed.ended, { reason: 'daemonStopped' });
    assert.deepEqual(feed.resumedAfter, []);
  });

  test(`a daemon that closes every connection before a new event: it gives up after ${MAX_RESUME_ATTEMPTS}, saying where it stopped`, async () => {
    const daemon = new FakeDaemon();
    daemon.add(4);
    const feed = follow(daemon, { latest: 10 });
    await until(() => feed.seen.length === 4, 'the backlog');
    daemon.closeOnSubscribe = true;
    const started = Date.now();
    daemon.current.drop();
    assert.deepEqual(await feed.ended, { reason: 'cannotResume', lastSeq: 4 });
    // The first connection, then MAX_RESUME_ATTEMPTS in a row without a new event.
    assert.equal(daemon.connections.length, 1 + MAX_RESUME_ATTEMPTS);
    // Waits of 0.1, 0.2, 0.4 and 0.8 s between those.
    assert.ok(Date.now() - started >= 1400, `gave up after ${Date.now() - started} ms`);
  });

  test('one that closes it right after each new event is followed all the same', async () => {
    const daemon = new FakeDaemon();
    const feed = follow(daemon, { latest: 0 });
    for (let round = 1; round <= MAX_RESUME_ATTEMPTS * 2; round++) {
      await until(() => daemon.current.subscribed && !daemon.current.closed, `subscription ${round}`);
      daemon.add(1);
      daemon.current.drop();
    }
    await until(() => feed.seen.length === MAX_RESUME_ATTEMPTS * 2, 'every event');
    assert.deepEqual(feed.seen, range(1, MAX_RESUME_ATTEMPTS * 2));
    feed.stop();
    assert.deepEqual(await feed.ended, { reason: 'stopped' });
  });
});

describe('eventsAfter (tail --since --no-follow)', { timeout: 30_000 }, () => {
  test('pages forward through the whole history: every event after the seq once, in order, then an empty page ends it', async () => {
    const daemon = new FakeDaemon();
    daemon.add(20);
    const client = await daemon.connect();
    const pages: number[][] = [];
    for await (const page of eventsAfter(client, 4)) pages.push(page.map((event) => event.seq));
    assert.deepEqual(pages.flat(), range(5, 20));
    assert.ok(pages.every((page) => page.length > 0));
    assert.equal(daemon.pagesRead, pages.length + 1, 'one request per page, and the empty one that ends it');
  });

  test('asks for no further page once the reader has gone (chat tail --since 0 | head)', async () => {
    const daemon = new FakeDaemon();
    daemon.add(30);
    const client = await daemon.connect();
    let readerGone = false;
    const seen: number[] = [];
    for await (const page of eventsAfter(client, 0, () => readerGone)) {
      seen.push(...page.map((event) => event.seq));
      readerGone = true;
    }
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(daemon.pagesRead, 1);
  });
});
