// Durable, and cheap in bursts: every commit of the history is fsynced (synchronous=FULL), and
// the writes of one turn share one commit (src/history/group-commit.ts).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { NewEvent } from '../../src/history/events.ts';
import { GroupCommit } from '../../src/history/group-commit.ts';
import { openHistory, type HistoryStore } from '../../src/history/store.ts';

const STORE = fileURLToPath(new URL('../../src/history/store.ts', import.meta.url));
const GROUP = fileURLToPath(new URL('../../src/history/group-commit.ts', import.meta.url));
const WRITES = 50;

function message(text: string): NewEvent {
  return { type: 'message', direction: 'in', id: randomUUID(), time: new Date().toISOString(), from: 'bob', to: 'alice', text };
}

function hasStrace(): boolean {
  return spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
}

describe('group commit', { timeout: 60_000 }, () => {
  let root: string;
  const stores: HistoryStore[] = [];

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'chat-group-commit-'));
  });
  after(async () => {
    for (const store of stores) store.close();
    await rm(root, { recursive: true, force: true });
  });

  function store(): HistoryStore {
    const opened = openHistory(path.join(root, `h-${stores.length}.db`));
    stores.push(opened);
    return opened;
  }

  test('the writes of one turn are one commit; each resolves with its own value, in order', async () => {
    const history = store();
    const group = new GroupCommit(history);
    const results = await Promise.all(Array.from({ length: WRITES }, (_, i) => group.run(() => history.append(message(`m${i}`)).seq)));
    assert.equal(group.commits, 1);
    assert.deepEqual(results, Array.from({ length: WRITES }, (_, i) => i + 1));
    await group.run(() => history.append(message('next turn')));
    assert.equal(group.commits, 2, 'a later turn is a commit of its own');
  });

  test('a write that throws is undone alone: the rest of its batch is kept', async () => {
    const history = store();
    const group = new GroupCommit(history);
    const first = group.run(() => history.append(message('kept 1')));
    const failing = group.run(() => {
      history.append(message('undone'));
      throw new Error('no room');
    });
    const last = group.run(() => history.append(message('kept 2')));
    await assert.rejects(failing, /no room/);
    await Promise.all([first, last]);
    assert.equal(group.commits, 1);
    assert.deepEqual(history.latest(10).map((event) => (event.type === 'message' ? event.text : '')), ['kept 1', 'kept 2']);
  });

  test('flush() commits what is pending at once (before the history closes)', async () => {
    const history = store();
    const group = new GroupCommit(history);
    const pending = group.run(() => history.append(message('pending')));
    group.flush();
    assert.equal(history.latest(1).length, 1, 'committed before the turn ended');
    await pending;
    group.flush();
    assert.equal(group.commits, 1, 'nothing pending: no commit');
  });

  // The fsyncs themselves, counted by strace in a child process: the promise behind an ACK.
  test('every commit is fsynced, and a burst in one turn is fsynced once', async (t) => {
    if (!hasStrace()) {
      t.skip('strace is not installed: cannot count fsync calls');
      return;
    }
    const syncs = async (name: string, body: string): Promise<number> => {
      const trace = path.join(root, `${name}.strace`);
      const script = `
        import { openHistory } from ${JSON.stringify(STORE)};
        import { GroupCommit } from ${JSON.stringify(GROUP)};
        const history = openHistory(${JSON.stringify(path.join(root, `${name}.db`))});
        const message = (text) => ({ type: 'message', direction: 'in', id: crypto.randomUUID(), time: new Date().toISOString(), from: 'bob', to: 'alice', text });
        ${body}
        history.close();`;
      execFileSync('strace', ['-f', '-qq', '-e', 'trace=fsync,fdatasync', '-o', trace, process.execPath, '--input-type=module', '-e', script]);
      return (await readFile(trace, 'utf8')).split('\n').filter((line) => /\b(fsync|fdatasync)\(/.test(line)).length;
    };
    const base = await syncs('base', '');
    const oneByOne = await syncs('one-by-one', `for (let i = 0; i < ${WRITES}; i++) history.append(message('m' + i));`);
    const grouped = await syncs('grouped', `
      const group = new GroupCommit(history);
      await Promise.all(Array.from({ length: ${WRITES} }, (_, i) => group.run(() => history.append(message('m' + i)))));`);
    assert.ok(oneByOne - base >= WRITES, `${WRITES} commits one by one made ${oneByOne - base} fsyncs (synchronous=FULL makes one each)`);
    assert.ok(grouped - base <= 2, `${WRITES} writes in one turn made ${grouped - base} fsyncs (one commit)`);
  });
});
