// `chat send` when the peer is not reachable: the message is queued (exit 4), listed by
// `chat outbox`, delivered once when the peer is back; `--id` retries; `chat outbox drop`.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ChatHome, historyOf, type RunResult } from '../helpers/chat.ts';

type Event = Record<string, unknown>;

const QUEUED_LINE = 'queued for bob, not delivered yet: it will be sent when bob is reachable (chat outbox)\n';

describe('the outbox: sending while the peer is away', { timeout: 240_000 }, () => {
  let home: ChatHome;
  let bobPort: number;

  before(async () => {
    home = await ChatHome.create();
    await home.startDaemon('alice');
    bobPort = (await home.startDaemon('bob')).port;
  });
  after(async () => {
    await home.cleanup();
  });

  const send = (args: string[]): Promise<RunResult> => home.run(['send', '--profile', 'alice', ...args]);
  const messages = (events: Event[], direction: string) => events.filter((event) => event.type === 'message' && event.direction === direction);

  async function connect(): Promise<void> {
    const connected = await home.run(['connect', '--profile', 'alice', String(bobPort)]);
    assert.equal(connected.code, 0, connected.stderr);
  }

  /** Stops bob's daemon: alice's messages have nobody to go to. */
  async function bobAway(): Promise<void> {
    const stopped = await home.run(['daemon', 'stop', '--profile', 'bob']);
    assert.equal(stopped.code, 0, stopped.stderr);
  }

  /** Starts bob again (a new port) and connects alice to him. */
  async function bobBack(): Promise<void> {
    bobPort = (await home.startDaemon('bob')).port;
    await connect();
  }

  async function outbox(): Promise<{ peers: Array<{ name: string; count: number; messages: Array<{ id: string; text: string }> }> }> {
    const listed = await home.run(['outbox', '--profile', 'alice', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    return JSON.parse(listed.stdout);
  }

  async function outboxEmptied(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while ((await outbox()).peers.length > 0) {
      if (Date.now() > deadline) throw new Error('the outbox did not empty within 30 s');
      await delay(100);
    }
  }

  test('no peer was ever connected: nobody to queue for, exit 1 as before', async () => {
    const result = await send(['hello?']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /not connected to a peer; run "chat connect PORT" first/);
    assert.deepEqual(await outbox(), { peers: [], truncated: false });
  });

  test('away: exit 4 after --timeout, and at once with --no-wait; listed; delivered once, in order, when bob is back', async () => {
    await connect();
    const before = await send(['before']);
    assert.equal(before.code, 0, before.stderr);
    assert.equal(before.stdout, 'delivered to bob\n');
    await bobAway();

    const started = Date.now();
    const waited = await send(['--timeout', '0.5', 'while', 'bob', 'is', 'away']);
    assert.equal(waited.code, 4, waited.stderr);
    assert.equal(waited.stdout, QUEUED_LINE);
    assert.equal(waited.stderr, '');
    assert.ok(Date.now() - started >= 500, 'it waited out --timeout');
    const noWait = await send(['--no-wait', '--json', 'second']);
    assert.equal(noWait.code, 4, noWait.stderr);
    const queued = JSON.parse(noWait.stdout);
    assert.equal(queued.state, 'queued');
    assert.equal(queued.to, 'bob');
    assert.match(queued.fingerprint, /^[0-9a-f]{64}$/);

    const listed = await outbox();
    assert.equal(listed.peers.length, 1);
    assert.equal(listed.peers[0]!.name, 'bob');
    assert.deepEqual(listed.peers[0]!.messages.map((message) => message.text), ['while bob is away', 'second']);
    const human = await home.run(['outbox', '--profile', 'alice']);
    assert.match(human.stdout, /^bob \(fingerprint [0-9a-f ]+\): 2 messages queued\n/);
    assert.match(human.stdout, new RegExp(`  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  ${queued.id}  second\n`));
    const status = await home.run(['daemon', 'status', '--profile', 'alice']);
    assert.match(status.stdout, /^outbox {6}2 messages waiting \(chat outbox\)$/m);
    assert.equal(JSON.parse((await home.run(['daemon', 'status', '--json', '--profile', 'alice'])).stdout).queued, 2);

    await bobBack();
    await outboxEmptied();
    assert.equal(JSON.parse((await home.run(['daemon', 'status', '--json', '--profile', 'alice'])).stdout).queued, 0);
    const texts = ['before', 'while bob is away', 'second'];
    const bobs = messages(await historyOf(home, 'bob'), 'in');
    assert.deepEqual(bobs.map((event) => event.text), texts, 'bob has each once, in order');
    const alices = await historyOf(home, 'alice');
    assert.deepEqual(messages(alices, 'out').map((event) => event.text), texts, 'alice has each once');
    assert.ok(messages(alices, 'out').every((event) => event.state === 'queued'), 'recorded as queued first');
    const delivered = alices.filter((event) => event.type === 'message-state' && event.state === 'delivered');
    assert.deepEqual(delivered.map((event) => event.id).sort(), messages(alices, 'out').map((event) => event.id).sort(), 'each delivered once');
    assert.equal(bobs.at(-1)!.id, queued.id, 'the same id on both sides');

    // What `chat tail` shows for it.
    // (Alice redials bob by herself too, so a `connected` line of the replaced connection may follow.)
    const tail = await home.run(['tail', '--profile', 'alice', '--no-follow', '-n', '5']);
    assert.match(tail.stdout, new RegExp(`\\* delivered to bob \\(message ${queued.id}\\)\n`));
    // Connected: --no-wait answers with the state it finds, 0 if delivered already, else 4; either
    // way the message arrives, once.
    const again = await send(['--no-wait', '--json', 'connected now']);
    const { state } = JSON.parse(again.stdout);
    assert.deepEqual([again.code, state], state === 'delivered' ? [0, 'delivered'] : [4, 'queued'], again.stderr);
    await outboxEmptied();
    assert.equal(messages(await historyOf(home, 'bob'), 'in').filter((event) => event.text === 'connected now').length, 1);
  });

  test('--id: a retry is the same message, recorded once on both sides; another text under the same id is refused', async () => {
    const id = randomUUID();
    const first = await send(['--id', id, 'retry me']);
    assert.equal(first.code, 0, first.stderr);
    const retry = await send(['--id', id.toUpperCase(), '--json', 'retry me']);
    assert.equal(retry.code, 0, retry.stderr);
    assert.equal(JSON.parse(retry.stdout).id, id);
    assert.equal(JSON.parse(retry.stdout).state, 'delivered');
    const other = await send(['--id', id, 'another text']);
    assert.equal(other.code, 2);
    assert.match(other.stderr, new RegExp(`message ${id} was sent already, with another text`));

    // Away, the retries of a queued message do not queue it twice.
    await bobAway();
    const later = randomUUID();
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await send(['--id', later, '--no-wait', 'later']);
      assert.equal(result.code, 4, result.stderr);
    }
    assert.equal((await outbox()).peers[0]!.count, 1);
    await bobBack();
    await outboxEmptied();
    const bobs = messages(await historyOf(home, 'bob'), 'in');
    assert.equal(bobs.filter((event) => event.id === id).length, 1);
    assert.equal(bobs.filter((event) => event.id === later).length, 1);
    const alices = messages(await historyOf(home, 'alice'), 'out');
    assert.equal(alices.filter((event) => event.id === id).length, 1);
    assert.equal(alices.filter((event) => event.id === later).length, 1);

    const bad = await send(['--id', 'not-a-uuid', 'x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--id: invalid value "not-a-uuid": expected a UUID/);
  });

  test('a restart of the sender while the peer is away: what was queued is kept, and new messages queue for the last peer', async () => {
    await bobAway();
    const before = await send(['--no-wait', 'queued before the restart']);
    assert.equal(before.code, 4, before.stderr);
    assert.equal((await home.run(['daemon', 'stop', '--profile', 'alice'])).code, 0);
    await home.startDaemon('alice');
    const after = await send(['--timeout', '0.2', 'queued after the restart']);
    assert.equal(after.code, 4, after.stderr);
    assert.equal(after.stdout, QUEUED_LINE, 'still for bob: the last peer is remembered');
    assert.deepEqual((await outbox()).peers[0]!.messages.map((message) => message.text), ['queued before the restart', 'queued after the restart']);
    await bobBack();
    await outboxEmptied();
    const bobs = messages(await historyOf(home, 'bob'), 'in').map((event) => event.text);
    assert.deepEqual(bobs.slice(-2), ['queued before the restart', 'queued after the restart']);
  });

  test('chat outbox drop: one by id, then --all; nothing dropped is delivered, and the history says so', async () => {
    await bobAway();
    const ids: string[] = [];
    for (const text of ['drop me', 'drop us', 'drop us too']) ids.push(JSON.parse((await send(['--no-wait', '--json', text])).stdout).id as string);
    const one = await home.run(['outbox', 'drop', '--profile', 'alice', ids[0]!]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, 'dropped 1 queued message\n');
    const twice = await home.run(['outbox', 'drop', '--profile', 'alice', ids[0]!]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, new RegExp(`message ${ids[0]} is not queued: it was dropped already`));
    const unknown = await home.run(['outbox', 'drop', '--profile', 'alice', randomUUID()]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no message has the id/);
    const neither = await home.run(['outbox', 'drop', '--profile', 'alice']);
    assert.equal(neither.code, 2);
    const all = await home.run(['outbox', 'drop', '--profile', 'alice', '--all', '--json']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(JSON.parse(all.stdout), { dropped: 2 });
    assert.equal((await home.run(['outbox', '--profile', 'alice'])).stdout, 'nothing queued: every message was delivered\n');

    await bobBack();
    const marker = await send(['after the drops']);
    assert.equal(marker.code, 0, marker.stderr);
    const bobs = messages(await historyOf(home, 'bob'), 'in');
    assert.equal(bobs.filter((event) => ids.includes(event.id as string)).length, 0, 'none of them reached bob');
    const dropped = (await historyOf(home, 'alice')).filter((event) => event.type === 'message-state' && event.state === 'dropped');
    assert.deepEqual(dropped.map((event) => event.id), ids);
  });
});
