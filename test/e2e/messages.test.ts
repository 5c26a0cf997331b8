// Message contents arrive byte for byte, and `chat tail` follows new events as they happen.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChatHome, collect, historyOf, waitForLine } from '../helpers/chat.ts';

type Event = Record<string, unknown>;

describe('messages and following the history', { timeout: 180_000 }, () => {
  let home: ChatHome;

  before(async () => {
    home = await ChatHome.create();
    await home.startDaemon('alice');
    const bob = await home.startDaemon('bob');
    const connected = await home.run(['connect', '--profile', 'alice', String(bob.port)]);
    assert.equal(connected.code, 0, connected.stderr);
  });
  after(async () => {
    await home.cleanup();
  });

  async function lastReceivedByBob(): Promise<string> {
    const events = await historyOf(home, 'bob', 5);
    const messages = events.filter((event) => event.type === 'message' && event.direction === 'in');
    return String(messages.at(-1)?.text);
  }

  test('unicode arguments arrive exactly', async () => {
    const text = 'héllo wörld — 你好 👋🏽 ½ \u200d';
    const result = await home.run(['send', '--profile', 'alice', text]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await lastReceivedByBob(), text);
  });

  test('arguments are joined by single spaces', async () => {
    const result = await home.run(['send', '--profile', 'alice', 'one', 'two', '  three']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await lastReceivedByBob(), 'one two   three');
  });

  test('`chat send -- -x` sends "-x"', async () => {
    const result = await home.run(['send', '--profile', 'alice', '--', '-x']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await lastReceivedByBob(), '-x');
  });

  test('standard input: multi-line, one trailing newline trimmed, inner blank lines kept', async () => {
    const text = 'line one\n\n  indented line\ttab\r\nlast line\n';
    const result = await home.run(['send', '--profile', 'alice'], { input: `${text}\n` });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await lastReceivedByBob(), text);
  });

  test('a 64 KiB message arrives byte for byte', async () => {
    const pattern = 'abcdefghijklmnopqrstuvwxyz0123456789ÄÖÜ€\n';
    let text = '';
    while (Buffer.byteLength(text) < 64 * 1024) text += pattern;
    text = Buffer.from(text).subarray(0, 64 * 1024).toString('utf8').replace(/\uFFFD+$/, '');
    const result = await home.run(['send', '--profile', 'alice'], { input: text });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await lastReceivedByBob(), text);
  });

  test('tail pages through history larger than one control message (24 messages of 200 KiB: 4.8 MB > the 4 MiB limit)', async () => {
    const texts = Array.from({ length: 24 }, (_, i) => `${String(i).padStart(2, '0')} ${'é'.repeat(100 * 1024)}`);
    for (const text of texts) assert.equal((await home.run(['send', '--profile', 'alice'], { input: text })).code, 0);
    const result = await home.run(['tail', '--profile', 'bob', '--no-follow', '--json', '-n', '24']);
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { text: string; seq: number });
    assert.deepEqual(events.map((event) => event.text), texts);
    for (let i = 1; i < events.length; i++) assert.equal(events[i]!.seq, events[i - 1]!.seq + 1);
  });

  test('terminal escape sequences from the peer are shown harmlessly by tail, kept exactly by --json', async () => {
    const text = 'evil \u001b[2J\u001b]0;pwned\u0007 text';
    const result = await home.run(['send', '--profile', 'alice', text]);
    assert.equal(result.code, 0, result.stderr);
    const human = await home.run(['tail', '--profile', 'bob', '--no-follow', '-n', '1']);
    assert.doesNotMatch(human.stdout, /\u001b/);
    assert.match(human.stdout, /evil \\x1b\[2J/);
    assert.equal(await lastReceivedByBob(), text);
  });

  test('tail stops cleanly on Ctrl-C (SIGINT)', async () => {
    const tail = home.spawn(['tail', '--profile', 'alice', '-n', '1']);
    const done = collect(tail, undefined, 30_000);
    await new Promise<void>((resolve) => tail.stdout?.once('data', () => resolve()));
    tail.kill('SIGINT');
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
  });

  test('tail --json follows new events in both directions until the daemon stops', async () => {
    const tail = home.spawn(['tail', '--profile', 'bob', '--json', '-n', '0']);
    const done = collect(tail, undefined, 60_000);
    // Wait until tail is subscribed: a message sent now must show up.
    const marker = `ping ${Date.now()}`;
    let seen: Event | undefined;
    const seenPromise = waitForLine<Event>(tail, (event) => event.text === marker).then((event) => { seen = event; });
    for (let attempt = 0; attempt < 50 && !seen; attempt++) {
      await home.run(['send', '--profile', 'alice', marker]);
      await Promise.race([seenPromise, new Promise((resolve) => setTimeout(resolve, 200))]);
    }
    assert.ok(seen, 'tail printed the incoming message');
    assert.equal(seen.type, 'message');
    assert.equal(seen.direction, 'in');
    assert.equal(seen.from, 'alice');
    assert.ok(typeof seen.seq === 'number');

    const reply = waitForLine<Event>(tail, (event) => event.text === 'pong');
    assert.equal((await home.run(['send', '--profile', 'bob', 'pong'])).code, 0);
    const out = await reply;
    assert.equal(out.direction, 'out');
    assert.equal(out.from, 'bob');

    const stopped = await home.run(['daemon', 'stop', '--profile', 'bob']);
    assert.equal(stopped.code, 0);
    const ended = await done;
    assert.equal(ended.code, 0, `tail exits when the daemon stops: ${ended.stderr}`);
    for (const line of ended.stdout.trim().split('\n')) JSON.parse(line);
  });
});
