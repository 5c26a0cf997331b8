// A cursor that scripts can trust: `chat tail --since SEQ` prints every event after SEQ exactly
// once, in order, across a restart of the daemon, then follows; and it ends, exit 0, as soon as
// whoever reads it has gone, however long the history.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { MAX_HISTORY_PAGE } from '../../src/control/protocol.ts';
import { openHistory } from '../../src/history/store.ts';
import { ChatHome, collect, historyOf, waitForLine } from '../helpers/chat.ts';

type Event = { seq: number; type: string; text?: string };

describe('tail --since', { timeout: 120_000 }, () => {
  const home = ChatHome.forSuite();

  test('every event after SEQ once, in order, across a daemon restart; then it follows', async () => {
    await home.startDaemon('alice');
    const bob = await home.startDaemon('bob');
    assert.equal((await home.run(['connect', '--profile', 'alice', String(bob.port)])).code, 0);
    for (const text of ['one', 'two', 'three']) assert.equal((await home.run(['send', '--profile', 'alice', text])).code, 0);
    const cursor = ((await historyOf(home, 'bob')) as Event[]).find((event) => event.text === 'two')!.seq;

    // A script stored `cursor`; the daemon restarts (alice redials it), more happens meanwhile.
    assert.equal((await home.run(['daemon', 'stop', '--profile', 'bob'])).code, 0);
    await home.startDaemon('bob', ['--port', String(bob.port)]);
    for (const text of ['four', 'five']) {
      const sent = await home.run(['send', '--profile', 'alice', '--timeout', '30', text]);
      assert.equal(sent.code, 0, sent.stderr);
    }

    const expected = ((await historyOf(home, 'bob')) as Event[]).filter((event) => event.seq > cursor);
    assert.ok(expected.some((event) => event.text === 'three') && expected.some((event) => event.text === 'five'));
    const past = await home.run(['tail', '--profile', 'bob', '--json', '--no-follow', '--since', String(cursor)]);
    assert.equal(past.code, 0, past.stderr);
    const printed = past.stdout.trim().split('\n').map((line) => JSON.parse(line) as Event);
    assert.deepEqual(printed.map((event) => event.seq), expected.map((event) => event.seq), 'exactly the events after SEQ, each once, in order');
    assert.ok(!printed.some((event) => event.text === 'one' || event.text === 'two'));

    // Following from the same cursor: the backlog first, then what comes next.
    const tail = home.spawn(['tail', '--profile', 'bob', '--json', '--since', String(cursor)]);
    const done = collect(tail, undefined, 60_000);
    const six = waitForLine<Event>(tail, (event) => event.text === 'six');
    assert.equal((await home.run(['send', '--profile', 'alice', 'six'])).code, 0);
    await six;
    tail.kill('SIGINT');
    const followed = (await done).stdout.trim().split('\n').map((line) => JSON.parse(line) as Event);
    const seqs = followed.map((event) => event.seq);
    assert.deepEqual(seqs.slice(0, expected.length), expected.map((event) => event.seq));
    assert.equal(new Set(seqs).size, seqs.length, 'nothing printed twice');
    assert.ok(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!), 'in order');
  });

  test('a reader that goes away (| head) ends tail at once, exit 0 and quiet, with or without --no-follow', async () => {
    // Five pages of history, written straight into carol's store before her daemon starts.
    mkdirSync(home.profileDir('carol'), { recursive: true, mode: 0o700 });
    const store = openHistory(path.join(home.profileDir('carol'), 'history.db'));
    const event = { type: 'peer', direction: 'in', time: '2026-01-01T00:00:00.000Z', from: 'dave', to: 'carol', state: 'connected', address: '192.0.2.1:7777' } as const;
    store.batch(Array.from({ length: 5 * MAX_HISTORY_PAGE }, () => () => store.append(event)));
    store.close();
    await home.startDaemon('carol');
    for (const follow of [[], ['--no-follow']]) {
      const tail = home.spawn(['tail', '--profile', 'carol', '--json', '--since', '0', ...follow]);
      const done = collect(tail, undefined, 30_000);
      // Like `head -1`: the first line read, the pipe's reading end closed.
      tail.stdout!.once('data', () => tail.stdout!.destroy());
      const result = await done;
      assert.deepEqual({ code: result.code, stderr: result.stderr }, { code: 0, stderr: '' }, `tail ${follow.join(' ')}`);
    }
  });
});
